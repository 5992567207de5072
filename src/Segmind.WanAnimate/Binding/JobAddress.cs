using System;
using System.Management.Automation;

namespace Segmind.WanAnimate.Binding
{
    internal static class JobAddress
    {
        /// <summary>An absolute http(s) address from a bound string (often an empty CSV cell), or null.</summary>
        public static Uri? Parse(string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                return null;
            }

            return Uri.TryCreate(value!.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                ? uri
                : null;
        }

        /// <summary>The same check as <see cref="Parse"/>, keeping the (trimmed) text instead of the parsed address.</summary>
        public static string? ParseText(string? value) => Parse(value) is null ? null : value!.Trim();

        /// <summary>What errors point at: the piped object when there was one, else the request id.</summary>
        public static object TargetOf(PSObject? input, string requestId) =>
            input == null || input.BaseObject is string ? requestId : (object)input;
    }
}
