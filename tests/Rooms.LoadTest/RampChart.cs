using System.Globalization;
using System.Text;

namespace Rooms.LoadTest;

/// <summary>A small self-contained SVG: sent rate (x) against p99 latency (y), with the target line.</summary>
internal static class RampChart
{
    private const int Width = 640;
    private const int Height = 360;
    private const int Left = 60;
    private const int Right = 20;
    private const int Top = 40;
    private const int Bottom = 50;

    public static string Render(IReadOnlyList<StepResult> steps, double p99TargetMs, string title)
    {
        var maxRate = steps.Select(s => s.TargetRate).DefaultIfEmpty(1).Max();
        var maxLatency = Math.Max(p99TargetMs * 2, steps.Select(s => s.P99Ms).DefaultIfEmpty(0).Max());
        maxLatency = Math.Min(maxLatency, p99TargetMs * 10);
        double X(double rate) => Left + rate / maxRate * (Width - Left - Right);
        double Y(double ms) => Height - Bottom - Math.Min(ms, maxLatency) / maxLatency * (Height - Top - Bottom);
        string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" font-family="sans-serif" font-size="12">""").AppendLine();
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{Width}" height="{Height}" fill="white"/>""").AppendLine();
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width / 2}" y="20" text-anchor="middle" font-size="14">Rooms: sent rate vs p99 latency ({title})</text>""").AppendLine();
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{Height - Bottom}" x2="{Width - Right}" y2="{Height - Bottom}" stroke="black"/>""").AppendLine();
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{Top}" x2="{Left}" y2="{Height - Bottom}" stroke="black"/>""").AppendLine();
        for (var i = 0; i <= 4; i++)
        {
            var rate = maxRate * i / 4;
            var ms = maxLatency * i / 4;
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{F(X(rate))}" y="{Height - Bottom + 18}" text-anchor="middle">{F(rate)}</text>""").AppendLine();
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left - 6}" y="{F(Y(ms) + 4)}" text-anchor="end">{F(ms)}</text>""").AppendLine();
        }

        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(Width + Left) / 2}" y="{Height - 10}" text-anchor="middle">sent messages per second</text>""").AppendLine();
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="15" y="{Height / 2}" text-anchor="middle" transform="rotate(-90 15 {Height / 2})">p99 latency (ms)</text>""").AppendLine();
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{F(Y(p99TargetMs))}" x2="{Width - Right}" y2="{F(Y(p99TargetMs))}" stroke="red" stroke-dasharray="6 4"/>""").AppendLine();
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width - Right}" y="{F(Y(p99TargetMs) - 6)}" text-anchor="end" fill="red">target {F(p99TargetMs)} ms</text>""").AppendLine();
        var points = string.Join(" ", steps.Select(s => $"{F(X(s.TargetRate))},{F(Y(s.P99Ms))}"));
        svg.Append(CultureInfo.InvariantCulture, $"""<polyline points="{points}" fill="none" stroke="steelblue" stroke-width="2"/>""").AppendLine();
        foreach (var s in steps)
        {
            var colour = s.Held ? "steelblue" : "red";
            svg.Append(CultureInfo.InvariantCulture, $"""<circle cx="{F(X(s.TargetRate))}" cy="{F(Y(s.P99Ms))}" r="4" fill="{colour}"><title>{F(s.TargetRate)}/s: p99 {F(s.P99Ms)} ms, lost {s.Lost}</title></circle>""").AppendLine();
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
