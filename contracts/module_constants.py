"""The named constants of a rendered module: each distinct expression once, named by its kind."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModuleConstants:
    """Module-level constants (compiled regexes, sets, tables) a generated module declares."""

    expressions: dict[str, str] = field(default_factory=dict)
    """Expression by constant name, in declaration order."""

    def name(self, expression: str, prefix: str) -> str:
        """Return the name of the constant holding ``expression``, declaring it the first time."""
        for name, existing in self.expressions.items():
            if existing == expression:
                return name
        name = f"_{prefix}{len(self.expressions)}"
        self.expressions[name] = expression
        return name

    def declarations(self) -> list[str]:
        """Return one ``name: Final = expression`` line per constant."""
        return [f"{name}: Final = {expression}" for name, expression in self.expressions.items()]
