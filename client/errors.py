"""One error hierarchy for both APIs: everything the client raises is a BrokerError."""

from __future__ import annotations


class BrokerError(Exception):
    """Base class of every error the client raises."""


class StreamsterFault(BrokerError):  # noqa: N818  (the name the issue and users know)
    """A SOAP fault from the Streamster API: `code` (Client/Server) and `text` (the faultstring)."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


class AccessDenied(BrokerError):  # noqa: N818  (the API's own words)
    """The service refused the credentials or the token ("Access denied")."""


class ApiError(BrokerError):
    """An HTTP error answer: `status` and the service's `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class TransportError(BrokerError):
    """The service could not be reached or did not answer in time."""
