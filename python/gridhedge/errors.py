"""The gridhedge exception family: one root, every error naming its field, value and rule.

`GridHedgeError` is the root. `InvalidInputError` (also a `ValueError`) is raised for any bad
argument or config value; `NumericalError` (also an `ArithmeticError`) when valid inputs have no
finite answer; `InternalError` (also a `RuntimeError`) if the Rust core ever panics, which is a
bug to report, never a crash of the interpreter.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DuplicateOrderError",
    "ExchangeAuthError",
    "ExchangeUnavailableError",
    "GridHedgeError",
    "InternalError",
    "InvalidInputError",
    "NumericalError",
    "OrderError",
    "OrderRejectedError",
]


class GridHedgeError(Exception):
    """Root of every error gridhedge raises on purpose.

    Attributes: ``field`` (argument or config key), ``value`` (what was given, as text, or
    None) and ``rule`` (what it must satisfy).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: str | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.rule = rule


class InvalidInputError(GridHedgeError, ValueError):
    """An argument broke a rule; the message names the field, the value and the rule."""


class ConfigError(InvalidInputError):
    """A configuration key or value broke a rule."""


class NumericalError(GridHedgeError, ArithmeticError):
    """Valid inputs without a finite answer (singular matrix, no convergence, overflow)."""


class InternalError(GridHedgeError, RuntimeError):
    """The Rust core panicked: a bug in gridhedge, caught at the boundary. Please report it."""


class OrderError(GridHedgeError):
    """An order was refused or could not be found."""


class DuplicateOrderError(OrderError):
    """A live order with this client order id already exists (a resend is a no-op)."""


class OrderRejectedError(OrderError):
    """The exchange refused one order (margin, filters, minimum notional, reduce-only,
    post-only ...). ``code`` is the exchange's own error code (Binance: ``-2019``), or None."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        field: str | None = None,
        value: str | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message, field=field, value=value, rule=rule)
        self.code = code


class ExchangeUnavailableError(OrderError):
    """The exchange did not answer within the retry budget (network, 5xx, overload, rate
    limit): retryable. A supervised loop backs off and carries on; nothing is known to be lost."""


class ExchangeAuthError(GridHedgeError):
    """The exchange refused the API key (bad key, bad signature, no permission, IP not
    allowed): not retryable, a human must fix it."""
