using Segmind.Client.TableStorage;
using Xunit;

namespace Segmind.Client.Tests.TableStorage;

/// <summary>Parsing journal table addresses and credentials, and keeping the credential out of every text.</summary>
public sealed class TableAddressAndCredentialTests
{
    private const string Sas = "sv=2019-02-02&tn=batch&sp=raud&se=2030-01-01T00%3A00%3A00Z&sig=AbCdEf0123456789%2BSecretSig%3D";

    [Fact]
    public void An_azure_address_names_its_account_and_table()
    {
        var address = TableAddress.Parse("https://mystorage.table.core.windows.net/wanbatch", "JournalPath");
        Assert.Equal("mystorage", address.AccountName);
        Assert.Equal("wanbatch", address.TableName);
        Assert.Equal("https://mystorage.table.core.windows.net/", address.ServiceUri.AbsoluteUri);
        Assert.True(TableAddress.IsTableAddress("https://mystorage.table.core.windows.net/wanbatch"));
        Assert.False(TableAddress.IsTableAddress("./batch.journal"));
        Assert.False(TableAddress.IsTableAddress(@"C:\runs\batch.journal"));
    }

    [Fact]
    public void A_loopback_emulator_address_is_path_style()
    {
        var address = TableAddress.Parse("http://127.0.0.1:10002/devstoreaccount1/batch01", "JournalPath");
        Assert.Equal("devstoreaccount1", address.AccountName);
        Assert.Equal("batch01", address.TableName);
        Assert.Equal("http://127.0.0.1:10002/devstoreaccount1/", address.ServiceUri.AbsoluteUri);
    }

    [Theory]
    [InlineData("http://mystorage.table.core.windows.net/batch", "plain http")]
    [InlineData("https://mystorage.table.core.windows.net/", "does not name one table")]
    [InlineData("https://mystorage.table.core.windows.net/a/b", "does not name one table")]
    [InlineData("https://mystorage.table.core.windows.net/1batch", "not a valid table name")]
    [InlineData("https://mystorage.table.core.windows.net/ba", "not a valid table name")]
    public void Bad_addresses_are_refused_naming_the_field(string text, string expected)
    {
        var error = Assert.Throws<SegmindValidationException>(() => TableAddress.Parse(text, "JournalPath"));
        Assert.Equal("JournalPath", error.Field);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_sas_pasted_into_the_address_is_refused_without_repeating_it()
    {
        var error = Assert.Throws<SegmindValidationException>(() => TableAddress.Parse("https://mystorage.table.core.windows.net/batch?" + Sas, "JournalPath"));
        Assert.Contains("journal credential", error.Message);
        Assert.DoesNotContain("SecretSig", error.ToString());
        Assert.DoesNotContain("sig=", error.ToString());
    }

    [Fact]
    public void Credentials_parse_and_never_show_themselves()
    {
        var sas = TableCredential.Parse("?" + Sas, "JournalCredential");
        Assert.Null(sas.AccountName);
        Assert.False(sas.UsesAccountKey);
        Assert.Equal("***", sas.ToString());
        Assert.Contains("sig=AbCdEf0123456789", sas.Authorize(new Uri("https://a.table.core.windows.net/t")).Query);

        var key = TableCredential.Parse("DefaultEndpointsProtocol=https;AccountName=MyStorage;AccountKey=" + Convert.ToBase64String(new byte[64]) + ";EndpointSuffix=core.windows.net", "JournalCredential");
        Assert.Equal("mystorage", key.AccountName);
        Assert.True(key.UsesAccountKey);
        Assert.Equal("***", key.ToString());

        var viaConnection = TableCredential.Parse("TableEndpoint=https://mystorage.table.core.windows.net/;SharedAccessSignature=" + Sas, "JournalCredential");
        Assert.False(viaConnection.UsesAccountKey);

        var development = TableCredential.Parse("UseDevelopmentStorage=true", "JournalCredential");
        Assert.Equal("devstoreaccount1", development.AccountName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a secret at all")]
    [InlineData("AccountName=x;AccountKey=not-base64!")]
    [InlineData("AccountName=x;Foo=bar")]
    public void Malformed_credentials_are_refused_without_repeating_them(string text)
    {
        var error = Assert.Throws<SegmindValidationException>(() => TableCredential.Parse(text, "JournalCredential"));
        Assert.Equal("JournalCredential", error.Field);
        if (text.Length > 0)
        {
            Assert.DoesNotContain(text, error.Message);
        }
    }

    [Fact]
    public void A_connection_string_for_another_account_is_refused()
    {
        var credential = TableCredential.Parse("AccountName=other;AccountKey=" + Convert.ToBase64String(new byte[64]), "JournalCredential");
        var error = Assert.Throws<SegmindValidationException>(() => credential.EnsureMatches(TableAddress.Parse("https://mine.table.core.windows.net/batch", "JournalPath"), "JournalCredential"));
        Assert.Contains("'other'", error.Message);
    }

    [Fact]
    public void Redact_scrubs_the_sas_its_signature_and_any_sig_value()
    {
        var credential = TableCredential.Parse(Sas, "JournalCredential");
        var text = "GET https://a.table.core.windows.net/t?" + Sas + " failed; signature AbCdEf0123456789+SecretSig= and sig=zzzOtherSig";
        var redacted = credential.Redact(text);
        Assert.DoesNotContain("SecretSig", redacted);
        Assert.DoesNotContain("zzzOtherSig", redacted);
        Assert.Contains("<redacted>", redacted);
    }
}
