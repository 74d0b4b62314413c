"""The six user-induced error types, their category and the recovery each calls for.

Ambiguous requests (vague reference, polysemy, contradiction) call for `internal_error_report`;
unsupported ones (operation, parameter, domain) for `transfer_to_human_agents`. Contradiction and
unsupported domain are the unseen types: withheld from the inception module's prompt.
"""

from __future__ import annotations

CATEGORY = {
    "vague_reference": "ambiguous",
    "polysemy": "ambiguous",
    "contradiction": "ambiguous",
    "unsupported_operation": "unsupported",
    "unsupported_parameter": "unsupported",
    "unsupported_domain": "unsupported",
}
RECOVERY = {"ambiguous": "internal_error_report", "unsupported": "transfer_to_human_agents"}
SEEN = ("vague_reference", "polysemy", "unsupported_operation", "unsupported_parameter")
UNSEEN = ("contradiction", "unsupported_domain")
ERROR_TYPES = tuple(CATEGORY)


def recovery_tool(error: str) -> str:
    """The recovery tool an error type calls for."""
    return RECOVERY[CATEGORY[error]]


def inject(template: str, task: dict) -> str:
    """The templated user's utterance for one error type on one base task."""
    return template.format(object=task["object"], verb=task["verb"])
