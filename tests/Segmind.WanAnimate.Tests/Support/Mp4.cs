using System.Text;

namespace Segmind.WanAnimate.Tests.Support;

public static class Mp4
{
    /// <summary>An MP4 file starts with a box whose type, at bytes 4-7, is "ftyp".</summary>
    public static bool StartsWithFtypBox(string path)
    {
        var header = new byte[8];
        using var stream = File.OpenRead(path);
        return stream.Read(header, 0, 8) == 8 && Encoding.ASCII.GetString(header, 4, 4) == "ftyp";
    }
}
