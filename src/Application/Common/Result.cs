namespace Rooms.Application.Common;

/// <summary>
/// Outcome of a request: a value, or the error the client is told. Expected failures
/// (validation, unknown target, storage trouble) travel here rather than as exceptions.
/// </summary>
public sealed record Result<T>(T? Value, string? Error)
{
    public bool IsSuccess => Error is null;

    public static Result<T> Ok(T value) => new(value, null);

    public static Result<T> Fail(string error) => new(default, error);
}
