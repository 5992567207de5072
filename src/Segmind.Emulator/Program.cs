namespace Segmind.Emulator;

public static class Program
{
    public static Task<int> Main(string[] args) => throw new NotImplementedException();
}
