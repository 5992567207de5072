using System.Collections.Concurrent;

namespace Segmind.Emulator;

/// <summary>Credits per API key: every key starts with <see cref="EmulatorOptions.StartingCredits"/> on first use.</summary>
internal sealed class CreditLedger
{
    private sealed class Account
    {
        public decimal Balance;
    }

    private readonly ConcurrentDictionary<string, Account> _accounts = new(StringComparer.Ordinal);
    private readonly EmulatorOptions _options;

    public CreditLedger(EmulatorOptions options) => _options = options;

    public decimal Balance(string apiKey)
    {
        var account = Get(apiKey);
        lock (account) return Normalize(account.Balance);
    }

    /// <summary>Drops trailing zeros (999.50 becomes 999.5) so answers read like the API's.</summary>
    public static decimal Normalize(decimal value) => value / 1.0000000000000000000000000000m;

    /// <summary>Takes <paramref name="cost"/> when the balance covers it; the balance is unchanged otherwise.</summary>
    public bool TryCharge(string apiKey, decimal cost, out decimal remaining)
    {
        var account = Get(apiKey);
        lock (account)
        {
            if (account.Balance < cost)
            {
                remaining = Normalize(account.Balance);
                return false;
            }

            account.Balance -= cost;
            remaining = Normalize(account.Balance);
            return true;
        }
    }

    public void SetBalance(string apiKey, decimal credits)
    {
        var account = Get(apiKey);
        lock (account) account.Balance = credits;
    }

    public void Clear() => _accounts.Clear();

    private Account Get(string apiKey) => _accounts.GetOrAdd(apiKey, _ => new Account { Balance = _options.StartingCredits });
}
