using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Rooms.Infrastructure.Configuration;

/// <summary>
/// Reads a configuration section into its settings class, checking every value first, so that a mistyped
/// setting stops the server with one line naming it and what it accepts (the configuration binder's own
/// message names the CLR type, not the choices). Range rules stay with each settings class's <c>Validate</c>.
/// </summary>
public static class SettingsBinder
{
    public static T Bind<T>(IConfiguration configuration, string sectionName)
        where T : new()
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(sectionName);
        var lists = new List<(PropertyInfo Property, string[] Items)>();
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            if (section[property.Name] is not { } value)
            {
                continue;
            }

            if (property.PropertyType == typeof(string[]))
            {
                // A list given the way environment variables usually carry one (Rooms__TrustedProxies=10.0.0.5,10.0.0.6)
                // rather than as Rooms__TrustedProxies__0=...: the binder would ignore it and keep the default.
                lists.Add((property, value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
                continue;
            }

            CheckConverts(Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType, $"{sectionName}:{property.Name}", value);
        }

        var settings = section.Get<T>() ?? new T();
        foreach (var (property, items) in lists)
        {
            property.SetValue(settings, items);
        }

        return settings;
    }

    /// <summary>Stops the start with <paramref name="message"/> when a setting breaks a rule.</summary>
    public static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidSettingException(message);
        }
    }

    private static void CheckConverts(Type type, string name, string value)
    {
        if (type.IsEnum)
        {
            // Enum.TryParse also takes numbers ("7"), which name no choice.
            Require(Enum.TryParse(type, value, ignoreCase: true, out _) && !value.Trim().All(c => char.IsDigit(c) || c == '-'),
                $"{name} must be one of {string.Join(", ", Enum.GetNames(type))} (got '{value}')");
        }
        else if (type == typeof(TimeSpan))
        {
            // A bare number would be read as days ("10" = 10 days), never what was meant.
            Require(value.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out _),
                $"{name} must be a duration written [d.]hh:mm:ss[.fff], e.g. 00:00:10 for ten seconds (got '{value}')");
        }
        else if (type == typeof(int))
        {
            Require(int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _), $"{name} must be a whole number (got '{value}')");
        }
        else if (type == typeof(long))
        {
            Require(long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _), $"{name} must be a whole number (got '{value}')");
        }
        else if (type == typeof(bool))
        {
            Require(bool.TryParse(value, out _), $"{name} must be true or false (got '{value}')");
        }
    }
}

/// <summary>A setting the server cannot start with; its message is the one line the operator sees.</summary>
public sealed class InvalidSettingException(string message) : InvalidOperationException(message);
