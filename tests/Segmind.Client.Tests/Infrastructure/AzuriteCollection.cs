using Xunit;

namespace Segmind.Client.Tests.Infrastructure;

/// <summary>Test classes in this collection share one Azurite process (each test uses its own table).</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteServer>
{
    public const string Name = "Azurite";
}
