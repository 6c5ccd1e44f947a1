using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Rooms.Benchmarks -- --filter '*'   (see README, "Performance")
BenchmarkSwitcher.FromAssembly(typeof(Rooms.Benchmarks.FanOutBenchmarks).Assembly).Run(args);
