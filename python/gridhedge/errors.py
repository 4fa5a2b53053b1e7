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
    "GridHedgeError",
    "InternalError",
    "InvalidInputError",
    "NumericalError",
    "OrderError",
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
