using System;

namespace Segmind.WanAnimate
{
    /// <summary>The account's credit balance.</summary>
    public sealed class SegmindCredit
    {
        public double Credits { get; set; }
        public double FreeCredits { get; set; }
        public DateTimeOffset CheckedAt { get; set; }

        public override string ToString() => Credits.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
