"""AWS region codes, and what to tell a user who wrote one wrong.

Domo writes to the customer's bucket in the region the request names and
does not support cross-region exports, so a mistyped region only shows up as
a failed export after the run has started. Checking it against the real list
at load time turns that into a manifest error that names the nearest valid
code. The list is fixed here (no network, no boto): regions are added a few
times a year, and a new one missing here is a one-line change.
"""

from __future__ import annotations

import re

from reconciler.manifest.schema_check import did_you_mean

__all__ = ["AWS_REGIONS", "region_problem"]

# Commercial partition, then GovCloud and China (opt-in regions included).
AWS_REGIONS: frozenset[str] = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-south-1",
        "eu-south-2",
        "eu-north-1",
        "il-central-1",
        "me-south-1",
        "me-central-1",
        "mx-central-1",
        "sa-east-1",
        "us-gov-east-1",
        "us-gov-west-1",
        "cn-north-1",
        "cn-northwest-1",
    }
)

# An availability zone is a region code plus one letter (us-east-1a).
_ZONE = re.compile(r"^(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$")
_SEPARATORS = re.compile(r"[\s_.]+")


def region_problem(region: str) -> str | None:
    """Why ``region`` is not an AWS region code, with the nearest valid one; None if it is.

    The message quotes the written value: a region is not a secret.
    """
    if region in AWS_REGIONS:
        return None
    suggestion = _nearest(region)
    zone = _ZONE.match(region)
    if zone and zone.group("region") in AWS_REGIONS:
        return (
            f"{region!r} is an availability zone, not a region: "
            f"write the region {zone.group('region')!r}"
        )
    hint = f"did you mean {suggestion!r}?" if suggestion else "see the AWS region codes"
    return f"{region!r} is not an AWS region code (like 'us-east-1'): {hint}"


def _nearest(region: str) -> str | None:
    """The valid code closest to ``region``: same letters first, then the fewest edits.

    The last step is the manifest's shared ``did_you_mean``, so a swapped pair
    of letters (``us-esat-1``) names the code it was meant to be.
    """
    cleaned = _SEPARATORS.sub("-", region.strip().lower())
    if cleaned in AWS_REGIONS:  # only case, spaces or separators were off
        return cleaned
    squashed = cleaned.replace("-", "")
    for code in sorted(AWS_REGIONS):
        if code.replace("-", "") == squashed:
            return code
    numbered = [code for code in sorted(AWS_REGIONS) if code.startswith(cleaned + "-")]
    if numbered:  # "us-east" -> the region's first number
        return numbered[0]
    return did_you_mean(cleaned, sorted(AWS_REGIONS))
