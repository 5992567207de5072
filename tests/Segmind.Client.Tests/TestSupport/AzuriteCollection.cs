using Xunit;

namespace Segmind.Client.Tests.TestSupport;

/// <summary>
/// Test classes in this collection share one Azurite process (each test uses its own table), and run on their own:
/// a node process and hundreds of table requests would otherwise load the machine under timing-sensitive classes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteServer>
{
    public const string Name = "Azurite";
}
