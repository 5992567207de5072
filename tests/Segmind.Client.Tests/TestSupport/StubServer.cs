using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Segmind.Client.Tests.TestSupport;

/// <summary>One request as the stub received it.</summary>
public sealed record StubRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;

    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A raw HTTP/1.1 server on 127.0.0.1 port 0 for answers the emulator never gives: HTML 405s, 410s, bodies that
/// are not JSON, missing fields, oversized or truncated bodies, stalls. Each connection serves one request and
/// is then closed.
/// </summary>
public sealed class StubServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ConcurrentQueue<StubRequest> _requests = new();

    public StubServer(Func<StubRequest, NetworkStream, CancellationToken, Task> handler)
        : this(handler, IPAddress.Loopback)
    {
    }

    /// <summary>On another loopback address (127.0.0.2 stands in for a second host).</summary>
    public StubServer(Func<StubRequest, NetworkStream, CancellationToken, Task> handler, IPAddress address)
    {
        Handler = handler;
        _listener = new TcpListener(address, 0);
        _listener.Start();
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        BaseUri = new Uri($"http://{address}:{port}/");
        _loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>A stub answering every request with the same status, headers and body.</summary>
    public static StubServer Answering(int status, string body, string contentType = "application/json", params (string Name, string Value)[] headers) =>
        new((request, stream, ct) => WriteAsync(stream, status, contentType, Encoding.UTF8.GetBytes(body), headers, ct));

    public Uri BaseUri { get; }

    public Func<StubRequest, NetworkStream, CancellationToken, Task> Handler { get; set; }

    public IReadOnlyList<StubRequest> Requests => _requests.ToList();

    public static Task WriteAsync(NetworkStream stream, int status, string contentType, byte[] body, (string Name, string Value)[]? headers, CancellationToken ct) =>
        WriteRawAsync(stream, status, contentType, body, body.Length, headers, ct);

    /// <summary>Writes a head announcing <paramref name="declaredLength"/> (null: none, the body ends at close) and then <paramref name="body"/>.</summary>
    public static async Task WriteRawAsync(NetworkStream stream, int status, string? contentType, byte[] body, long? declaredLength, (string Name, string Value)[]? headers, CancellationToken ct)
    {
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(status).Append(' ').Append(Reason(status)).Append("\r\n");
        if (contentType is not null)
        {
            head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        }

        if (declaredLength is { } length)
        {
            head.Append("Content-Length: ").Append(length).Append("\r\n");
        }

        foreach (var (name, value) in headers ?? Array.Empty<(string, string)>())
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        var bytes = Encoding.ASCII.GetBytes(head.ToString());
        await stream.WriteAsync(bytes, ct);
        await stream.WriteAsync(body, ct);
        await stream.FlushAsync(ct);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient connection;
            try
            {
                connection = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            _ = Task.Run(() => ServeAsync(connection));
        }
    }

    private async Task ServeAsync(TcpClient connection)
    {
        using (connection)
        {
            try
            {
                var stream = connection.GetStream();
                var request = await ReadRequestAsync(stream, _stop.Token);
                if (request is null)
                {
                    return;
                }

                _requests.Enqueue(request);
                await Handler(request, stream, _stop.Token);
                connection.Client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
            }
            catch (IOException)
            {
                // The client went away (a test cancelled it): nothing to answer.
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private static async Task<StubRequest?> ReadRequestAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new List<byte>(4096);
        var one = new byte[1];
        while (true)
        {
            var read = await stream.ReadAsync(one, ct);
            if (read == 0)
            {
                return null;
            }

            buffer.Add(one[0]);
            var count = buffer.Count;
            if (count >= 4 && buffer[count - 4] == '\r' && buffer[count - 3] == '\n' && buffer[count - 2] == '\r' && buffer[count - 1] == '\n')
            {
                break;
            }
        }

        var lines = Encoding.ASCII.GetString(buffer.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var parts = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0)
            {
                headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
            }
        }

        var body = Array.Empty<byte>();
        if (headers.TryGetValue("content-length", out var lengthText) && int.TryParse(lengthText, out var length) && length > 0)
        {
            body = new byte[length];
            var filled = 0;
            while (filled < length)
            {
                var read = await stream.ReadAsync(body.AsMemory(filled), ct);
                if (read == 0)
                {
                    break;
                }

                filled += read;
            }
        }

        return new StubRequest(parts[0], parts.Length > 1 ? parts[1] : "/", headers, body);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        410 => "Gone",
        418 => "I'm a teapot",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    };

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
