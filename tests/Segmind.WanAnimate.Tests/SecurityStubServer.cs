using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Segmind.WanAnimate.Tests;

/// <summary>One request as the stub read it.</summary>
public sealed record StubCall(string Method, string Path, string Body);

/// <summary>
/// A deliberately hostile HTTP server on 127.0.0.1: it answers whatever the test says, including what Segmind
/// never would (ids that look like paths, absurd sizes). One request per connection, so every answer is complete
/// or cut exactly where the test cuts it.
/// </summary>
public sealed class SecurityStubServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<StubCall> _calls = new();

    public SecurityStubServer(Func<StubCall, SecurityStubServer, Func<NetworkStream, CancellationToken, Task>> handler)
        : this(handler, IPAddress.Loopback)
    {
    }

    /// <summary>On another loopback address: 127.0.0.2 stands in for a second host.</summary>
    public SecurityStubServer(Func<StubCall, SecurityStubServer, Func<NetworkStream, CancellationToken, Task>> handler, IPAddress address)
    {
        Handler = handler;
        _listener = new TcpListener(address, 0);
        _listener.Start();
        BaseUri = new Uri($"http://{address}:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri BaseUri { get; }

    public Func<StubCall, SecurityStubServer, Func<NetworkStream, CancellationToken, Task>> Handler { get; set; }

    public IReadOnlyList<StubCall> Calls
    {
        get
        {
            lock (_calls)
            {
                return _calls.ToList();
            }
        }
    }

    /// <summary>A complete answer with a body.</summary>
    public static Func<NetworkStream, CancellationToken, Task> Answer(int status, string contentType, byte[] body, params (string Name, string Value)[] headers) =>
        (stream, ct) => WriteHeadAndBodyAsync(stream, status, contentType, body.LongLength, headers, async () => await stream.WriteAsync(body, ct));

    public static Func<NetworkStream, CancellationToken, Task> Json(string json, int status = 200) =>
        Answer(status, "application/json", Encoding.UTF8.GetBytes(json));

    /// <summary>A JSON answer of <paramref name="totalBytes"/> bytes, streamed: a valid object whose one string is huge.</summary>
    public static Func<NetworkStream, CancellationToken, Task> HugeJson(long totalBytes) => (stream, ct) =>
    {
        var head = Encoding.UTF8.GetBytes("{\"status\":\"COMPLETED\",\"request_id\":\"huge\",\"credits\":1,\"padding\":\"");
        var tail = Encoding.UTF8.GetBytes("\"}");
        return WriteHeadAndBodyAsync(stream, 200, "application/json", totalBytes, Array.Empty<(string, string)>(), async () =>
        {
            await stream.WriteAsync(head, ct);
            var chunk = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
            var left = totalBytes - head.Length - tail.Length;
            while (left > 0)
            {
                var size = (int)Math.Min(chunk.Length, left);
                await stream.WriteAsync(chunk.AsMemory(0, size), ct);
                left -= size;
            }

            await stream.WriteAsync(tail, ct);
        });
    };

    /// <summary>Announces a body of <paramref name="declaredBytes"/> bytes, then sends a few and hangs up.</summary>
    public static Func<NetworkStream, CancellationToken, Task> DeclaredOnly(long declaredBytes) => (stream, ct) =>
        WriteHeadAndBodyAsync(stream, 200, "application/json", declaredBytes, Array.Empty<(string, string)>(), async () => await stream.WriteAsync("{\"credits\":"u8.ToArray(), ct));

    private static async Task WriteHeadAndBodyAsync(NetworkStream stream, int status, string contentType, long length, (string Name, string Value)[] headers, Func<Task> body)
    {
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(status).Append(' ').Append(status == 200 ? "OK" : "Status").Append("\r\n");
        head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        head.Append("Content-Length: ").Append(length).Append("\r\n");
        head.Append("Connection: close\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        await body();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var call = await ReadRequestAsync(stream, _stop.Token);
                if (call == null)
                {
                    return;
                }

                lock (_calls)
                {
                    _calls.Add(call);
                }

                await Handler(call, this)(stream, _stop.Token);
                await stream.FlushAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client hung up on an answer it refused: that is the point of most of these answers.
            }
        }
    }

    private static async Task<StubCall?> ReadRequestAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one, ct) == 0)
            {
                return null;
            }

            buffer.Add(one[0]);
            var n = buffer.Count;
            if (n >= 4 && buffer[n - 4] == '\r' && buffer[n - 3] == '\n' && buffer[n - 2] == '\r' && buffer[n - 1] == '\n')
            {
                break;
            }
        }

        var lines = Encoding.ASCII.GetString(buffer.ToArray()).Split("\r\n");
        var first = lines[0].Split(' ');
        var length = 0;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line[(colon + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        var body = new byte[length];
        var read = 0;
        while (read < length)
        {
            var got = await stream.ReadAsync(body.AsMemory(read), ct);
            if (got == 0)
            {
                break;
            }

            read += got;
        }

        return new StubCall(first[0], first.Length > 1 ? first[1] : "/", Encoding.UTF8.GetString(body, 0, read));
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception)
        {
            // Stopping is best effort; the listener is already closed.
        }

        _stop.Dispose();
    }
}
