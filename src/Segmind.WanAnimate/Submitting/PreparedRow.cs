using System.Globalization;
using Segmind.Client;

namespace Segmind.WanAnimate.Submitting
{
    /// <summary>What a submitting cmdlet does with a row, given the journal.</summary>
    internal enum RowPlan
    {
        /// <summary>Claimed for this run: submit it.</summary>
        Submit,

        /// <summary>A job exists for it: follow that job, never submit again.</summary>
        Resume,

        /// <summary>Reported and left alone.</summary>
        Skip,
    }

    /// <summary>One validated input row, ready to submit.</summary>
    internal sealed class PreparedRow
    {
        public PreparedRow(int row, string rowId, object target, WanAnimateRequest request, string inputVideo, string referenceImage)
        {
            Row = row;
            RowId = rowId;
            Target = target;
            Request = request;
            InputVideo = inputVideo;
            ReferenceImage = referenceImage;
        }

        public int Row { get; }

        public string RowId { get; }

        /// <summary>The input as the user gave it (TargetObject of errors).</summary>
        public object Target { get; }

        public WanAnimateRequest Request { get; }

        /// <summary>The inputs as given (a path stays a path), so the row's identity does not depend on where files were uploaded.</summary>
        public string InputVideo { get; }

        public string ReferenceImage { get; }

        public string Description => string.Format(
            CultureInfo.InvariantCulture, "Row {0}: {1} + {2} ({3}, {4})", Row, InputVideo, ReferenceImage, Request.Mode, Request.Resolution);

        public SubmitRow ToSubmitRow() => new SubmitRow(Row, RowId, Request);
    }
}
