"""`tf.flags` / `tf.app.flags` (TF1): command-line flags with absl's interface and messages.

TensorFlow's `tf.flags` is `absl.flags` behind a wrapper; this module gives
the same API without absl:

- `DEFINE_string/integer/float/boolean/bool/enum/list/spaceseplist/
  multi_string/multi_integer/multi_float` register a flag in `FLAGS` (or the
  `flag_values` given) and return a `FlagHolder`; TF's old keyword names
  (`flag_name`, `default_value`, `docstring`) are accepted with TF's warning;
- `FLAGS(argv, known_only=False)` parses `--name=value`, `--name value`,
  `-name=value`, `--flag` / `--noflag` for booleans, repeated multi flags,
  and stops at `--`; arguments that are not flags stay in the returned list
  (after `argv[0]`), as do unknown flags when `known_only`; otherwise an
  unknown flag is an UnrecognizedFlagError with absl's "Did you mean" hint;
- values out of a flag's type, enum or bounds are IllegalFlagValueErrors
  worded as absl words them (`flag --n=abc: invalid literal for int() ...`);
- reading a flag of `FLAGS` before any parse parses `sys.argv` first, as TF's
  wrapper does (a FlagValues of your own raises UnparsedFlagAccessError);
- `str(FLAGS)` and `--help` (see `caudal.app`) render absl's help text.
"""
from __future__ import annotations

import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["DEFINE", "DEFINE_bool", "DEFINE_boolean", "DEFINE_enum", "DEFINE_flag", "DEFINE_float", "DEFINE_integer",
           "DEFINE_list", "DEFINE_multi_float", "DEFINE_multi_integer", "DEFINE_multi_string", "DEFINE_spaceseplist",
           "DEFINE_string", "DuplicateFlagError", "Error", "FLAGS", "Flag", "FlagHolder", "FlagValues",
           "IllegalFlagValueError", "UnparsedFlagAccessError", "UnrecognizedFlagError", "ValidationError",
           "mark_flag_as_required", "mark_flags_as_required", "register_validator", "validator"]

HELP_WIDTH = 80


class Error(Exception):
    """The base class of flag errors (absl's `flags.Error`)."""


class DuplicateFlagError(Error):
    """A flag name defined twice."""


class IllegalFlagValueError(Error):
    """A value a flag cannot take."""


class UnrecognizedFlagError(Error):
    """A command-line flag nobody defined."""

    def __init__(self, flagname: str, flagvalue: str = "", suggestions: Sequence[str] | None = None):
        self.flagname = flagname
        self.flagvalue = flagvalue
        hint = f". Did you mean: {', '.join(suggestions)} ?" if suggestions else ""
        super().__init__(f"Unknown command line flag '{flagname}'{hint}")


class UnparsedFlagAccessError(Error):
    """A flag read before the flags were parsed."""


class ValidationError(Error):
    """A validator's verdict (raise it from a checker to give its message)."""


# ------------------------------------------------------------------ parsers
class ArgumentParser:
    """Converts a command-line string (or a default) to a flag's value."""

    syntactic_help = ""

    def parse(self, argument: Any) -> Any:
        if not isinstance(argument, str):
            raise TypeError(f"flag value must be a string, found \"{type(argument)}\"")
        return argument

    def flag_type(self) -> str:
        return "string"


class BooleanParser(ArgumentParser):
    def parse(self, argument: Any) -> bool:
        if isinstance(argument, str):
            lowered = argument.lower()
            if lowered in ("true", "t", "1"):
                return True
            if lowered in ("false", "f", "0"):
                return False
        elif isinstance(argument, int) and argument in (0, 1):
            return bool(argument)
        raise ValueError("Non-boolean argument to boolean flag", argument)

    def flag_type(self) -> str:
        return "bool"


class _NumericParser(ArgumentParser):
    """Integers or floats within optional bounds; absl's help names the bounds."""

    article = ""
    noun = ""

    def __init__(self, lower_bound: Any = None, upper_bound: Any = None):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        help_text = f"{self.article} {self.noun}"
        if lower_bound is not None and upper_bound is not None:
            help_text += f" in the range [{lower_bound}, {upper_bound}]"
        elif lower_bound == 1:
            help_text = f"a positive {self.noun}"
        elif upper_bound == -1:
            help_text = f"a negative {self.noun}"
        elif lower_bound == 0:
            help_text = f"a non-negative {self.noun}"
        elif upper_bound == 0:
            help_text = f"a non-positive {self.noun}"
        elif upper_bound is not None:
            help_text = f"{self.noun} <= {upper_bound}"
        elif lower_bound is not None:
            help_text = f"{self.noun} >= {lower_bound}"
        self.syntactic_help = help_text

    def convert(self, argument: Any) -> Any:
        raise NotImplementedError

    def parse(self, argument: Any) -> Any:
        value = self.convert(argument)
        if self.is_outside_bounds(value):
            raise ValueError(f"{value} is not {self.syntactic_help}")
        return value

    def is_outside_bounds(self, value: Any) -> bool:
        return ((self.lower_bound is not None and value < self.lower_bound)
                or (self.upper_bound is not None and value > self.upper_bound))


class IntegerParser(_NumericParser):
    article = "an"
    noun = "integer"

    def convert(self, argument: Any) -> int:
        if isinstance(argument, int) and not isinstance(argument, bool):
            return argument
        if isinstance(argument, str):
            base = 10
            if len(argument) > 2 and argument[0] == "0":
                if argument[1] == "o":
                    base = 8
                elif argument[1] in "xX":
                    base = 16
            return int(argument, base)
        raise TypeError(f"Expect argument to be a string or int, found {type(argument)}")

    def flag_type(self) -> str:
        return "int"


class FloatParser(_NumericParser):
    article = "a"
    noun = "number"

    def convert(self, argument: Any) -> float:
        if isinstance(argument, (int, float)) and not isinstance(argument, bool):
            return float(argument)
        if isinstance(argument, str):
            return float(argument)
        raise TypeError(f"Expect argument to be a string, int, or float, found {type(argument)}")

    def flag_type(self) -> str:
        return "float"


class EnumParser(ArgumentParser):
    def __init__(self, enum_values: Sequence[str], case_sensitive: bool = True):
        if not enum_values:
            raise ValueError(f"enum_values cannot be empty, found \"{enum_values}\"")
        self.enum_values = list(enum_values)
        self.case_sensitive = case_sensitive

    def parse(self, argument: Any) -> str:
        if self.case_sensitive:
            if argument in self.enum_values:
                return argument
        else:
            for value in self.enum_values:
                if value.upper() == str(argument).upper():
                    return value
        raise ValueError(f"value should be one of <{'|'.join(self.enum_values)}>")


class ListParser(ArgumentParser):
    syntactic_help = "a comma separated list"

    def parse(self, argument: Any) -> list[str]:
        if isinstance(argument, list):
            return argument
        if not argument:
            return []
        return [item.strip() for item in argument.split(",")]

    def flag_type(self) -> str:
        return "list"


class WhitespaceSeparatedListParser(ListParser):
    syntactic_help = "a whitespace separated list"

    def parse(self, argument: Any) -> list[str]:
        if isinstance(argument, list):
            return argument
        return argument.split()


# -------------------------------------------------------------------- flags
class Flag:
    """One flag: its parser, default, current value and how often the command line gave it."""

    def __init__(self, parser: ArgumentParser, name: str, default: Any, help_string: str | None,
                 short_name: str | None = None, boolean: bool = False, serialize: Callable[[Any], str] = str):
        self.parser = parser
        self.name = name
        self.short_name = short_name
        self.boolean = boolean
        self.help = help_string or ""
        self.serialize = serialize
        self.present = 0
        self.using_default_value = True
        self.validators: list[tuple[Callable[[Any], Any], str]] = []
        self.module_name = ""
        self.default = None if default is None else self._parse(default)
        self.value = self.default

    def _parse(self, argument: Any) -> Any:
        try:
            return self.parser.parse(argument)
        except (TypeError, ValueError) as e:
            raise IllegalFlagValueError(f"flag --{self.name}={argument}: {e}") from e

    def parse(self, argument: Any) -> None:
        self.value = self._parse(argument)
        self.present += 1

    def unparse(self) -> None:
        self.value = self.default
        self.present = 0
        self.using_default_value = True

    def value_as_text(self, value: Any) -> str:
        return ("true" if value else "false") if self.boolean else self.serialize(value)

    @property
    def default_as_str(self) -> str | None:
        return None if self.default is None else repr(self.value_as_text(self.default))


class MultiFlag(Flag):
    """A flag that may be repeated; each occurrence adds to a list (the first replaces the default)."""

    def __init__(self, parser: ArgumentParser, name: str, default: Any, help_string: str | None, **kwargs: Any):
        help_string = f"{help_string or ''};\n    repeat this option to specify a list of values"
        super().__init__(parser, name, default, help_string, serialize=lambda v: str(v), **kwargs)

    def _parse(self, arguments: Any) -> list[Any]:
        items = arguments if isinstance(arguments, list) else [arguments]
        return [super(MultiFlag, self)._parse(item) for item in items]

    def parse(self, arguments: Any) -> None:
        values = self._parse(arguments)
        self.value = (self.value + values) if self.present else values
        self.present += len(values)


class FlagHolder:
    """What DEFINE_* returns: a handle on one flag of one FlagValues."""

    def __init__(self, flag_values: FlagValues, flag: Flag):
        self._flag_values = flag_values
        self._name = flag.name

    @property
    def name(self) -> str:
        return self._name

    @property
    def value(self) -> Any:
        return getattr(self._flag_values, self._name)

    @property
    def default(self) -> Any:
        return self._flag_values[self._name].default

    @property
    def present(self) -> bool:
        return bool(self._flag_values[self._name].present)


# --------------------------------------------------------------- FlagValues
class FlagValues:
    """A registry of flags; `FLAGS` is the process-wide one."""

    def __init__(self, parse_argv_on_first_read: bool = False):
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_parsed", False)
        object.__setattr__(self, "_parse_argv_on_first_read", parse_argv_on_first_read)

    # ---- registration
    def _register(self, flag: Flag) -> None:
        flags = self._flags
        for key in (flag.name, flag.short_name):
            if key is None:
                continue
            if key in flags and flags[key] is not flag:
                first = flags[key]
                raise DuplicateFlagError(f"The flag '{key}' is defined twice. First from {first.module_name}, "
                                         f"second from {flag.module_name}. Description from first occurrence: "
                                         f"{first.help}")
            flags[key] = flag

    def __getitem__(self, name: str) -> Flag:
        return self._flags[name]

    def __contains__(self, name: object) -> bool:
        return name in self._flags

    def __iter__(self) -> Iterator[str]:
        return iter(self._flags)

    def __len__(self) -> int:
        return len(self._flags)

    def _unique_flags(self) -> list[Flag]:
        seen: dict[int, Flag] = {}
        for flag in self._flags.values():
            seen.setdefault(id(flag), flag)
        return list(seen.values())

    # ---- values
    def __getattr__(self, name: str) -> Any:
        flags = self.__dict__["_flags"]
        if name not in flags:
            raise AttributeError(name)
        if not self.__dict__["_parsed"]:
            if not self.__dict__["_parse_argv_on_first_read"]:
                raise UnparsedFlagAccessError(f"Trying to access flag --{name} before flags were parsed.")
            self(sys.argv)
        return flags[name].value

    def __setattr__(self, name: str, value: Any) -> None:
        flag = self._flags.get(name)
        if flag is None:
            raise AttributeError(name)
        flag.value = value
        flag.using_default_value = False
        self._check(flag)

    def is_parsed(self) -> bool:
        return self._parsed

    def mark_as_parsed(self) -> None:
        object.__setattr__(self, "_parsed", True)

    def unparse_flags(self) -> None:
        for flag in self._unique_flags():
            flag.unparse()
        object.__setattr__(self, "_parsed", False)

    def flag_values_dict(self) -> dict[str, Any]:
        return {flag.name: flag.value for flag in self._unique_flags()}

    def get_flag_value(self, name: str, default: Any) -> Any:
        flag = self._flags.get(name)
        return default if flag is None else flag.value

    def set_default(self, name: str, value: Any) -> None:
        flag = self._flags[name]
        flag.default = None if value is None else flag._parse(value)
        if flag.using_default_value:
            flag.value = flag.default
        self._check(flag)

    # ---- parsing
    def __call__(self, argv: Sequence[str], known_only: bool = False) -> list[str]:
        """Parses `argv` (argv[0] is the program) and returns argv[0] plus the arguments that are not flags."""
        if isinstance(argv, str) or not argv:
            raise TypeError("argv should be a tuple/list of strings, not bytes or string.")
        argv = list(argv)
        unknown, rest = self._parse_args(argv[1:], known_only)
        if unknown:
            name, text = unknown[0]
            raise UnrecognizedFlagError(name, text, suggestions=self._suggestions(name))
        self.mark_as_parsed()
        for flag in self._unique_flags():
            self._check(flag)
        return [argv[0]] + rest

    def _parse_args(self, args: list[str], known_only: bool) -> tuple[list[tuple[str, str]], list[str]]:
        flags = self._flags
        unknown: list[tuple[str, str]] = []
        rest: list[str] = []
        position = 0
        while position < len(args):
            arg = args[position]
            position += 1
            if arg == "--":
                rest.extend(args[position - 1 if known_only else position:])
                break
            if not arg.startswith("-") or arg == "-":
                rest.append(arg)
                continue
            body = arg[2:] if arg.startswith("--") else arg[1:]
            name, equals, value = body.partition("=")
            flag = flags.get(name)
            text: str | None = value if equals else None
            if flag is not None:
                if text is None:
                    if flag.boolean:
                        text = "true"
                    elif position < len(args):
                        text = args[position]
                        position += 1
                    else:
                        raise Error(f"Missing value for flag {arg}")
            elif name.startswith("no") and flags.get(name[2:]) is not None and flags[name[2:]].boolean:
                if equals:
                    raise ValueError(f"{arg} does not take an argument")
                flag, text = flags[name[2:]], "false"
            if flag is None:
                if known_only:
                    rest.append(arg)
                else:
                    unknown.append((name, arg))
                continue
            flag.parse(text)
            flag.using_default_value = False
        return unknown, rest

    def _suggestions(self, attempt: str) -> list[str]:
        """absl's hint: the flag names whose prefix is closest to `attempt` (few enough edits)."""
        names = sorted({flag.name for flag in self._unique_flags()})
        if len(attempt) <= 2 or not names:
            return []
        scored = sorted((_edit_distance(attempt, name[:len(attempt)]), name) for name in names)
        best = scored[0][0]
        if best >= 0.5 * len(attempt):
            return []
        return [name for distance, name in scored if distance == best]

    def _check(self, flag: Flag) -> None:
        parser = flag.parser
        if (isinstance(parser, _NumericParser) and not isinstance(flag, MultiFlag) and flag.value is not None
                and parser.is_outside_bounds(flag.value)):
            raise IllegalFlagValueError(f"flag --{flag.name}={flag.value}: {flag.value} is not "
                                        f"{parser.syntactic_help}")
        for checker, message in flag.validators:
            try:
                verdict = checker(flag.value)
            except ValidationError as e:
                verdict, message = False, str(e)
            if not verdict:
                raise IllegalFlagValueError(f"flag --{flag.name}={flag.value}: {message}")

    # ---- help
    def _flags_by_module(self) -> dict[str, list[Flag]]:
        grouped: dict[str, list[Flag]] = {}
        for flag in self._unique_flags():
            grouped.setdefault(flag.module_name, []).append(flag)
        return grouped

    def module_help(self, module: str) -> str:
        flags = self._flags_by_module().get(module)
        if not flags:
            return ""
        lines = [f"\n{module}:"] + [_flag_help(flag) for flag in sorted(flags, key=lambda f: f.name)]
        return "\n".join(lines)

    def main_module_help(self) -> str:
        return self.module_help(sys.argv[0] if sys.argv else "__main__")

    def get_help(self) -> str:
        modules = sorted(self._flags_by_module())
        main = sys.argv[0] if sys.argv else "__main__"
        if main in modules:
            modules.remove(main)
            modules.insert(0, main)
        return "".join(self.module_help(module) for module in modules)

    def __str__(self) -> str:
        return self.get_help()


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count once)."""
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = i
    for j in range(len(b) + 1):
        rows[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + cost)
    return rows[len(a)][len(b)]


def _wrap(text: str, indent: str, first_indent: str) -> str:
    lines: list[str] = []
    current = first_indent
    for paragraph in text.splitlines() or [""]:
        wrapped = textwrap.wrap(paragraph.strip(), width=HELP_WIDTH, initial_indent=current, subsequent_indent=indent)
        lines.extend(wrapped or [indent])
        current = indent
    return "\n".join(lines)


def _flag_help(flag: Flag) -> str:
    head = f"-{flag.short_name}," if flag.short_name else ""
    head += f"--[no]{flag.name}:" if flag.boolean else f"--{flag.name}:"
    text = _wrap(f"{head} {flag.help}".rstrip(), "    ", "  ")
    if flag.default_as_str is not None:
        text += "\n" + _wrap(f"(default: {flag.default_as_str})", "    ", "    ")
    if flag.parser.syntactic_help:
        text += "\n" + _wrap(f"({flag.parser.syntactic_help})", "    ", "    ")
    return text


# ------------------------------------------------------------------ defining
class _TFFlagValues(FlagValues):
    """`FLAGS`: reading a flag before any parse parses sys.argv first, as TF's wrapper of absl's FLAGS does."""

    def __init__(self) -> None:
        super().__init__(parse_argv_on_first_read=True)


FLAGS: FlagValues = _TFFlagValues()

_OLD_KEYWORDS = {"flag_name": "name", "default_value": "default", "docstring": "help"}


def _caller_module(depth: int) -> str:
    name = sys._getframe(depth).f_globals.get("__name__", "__main__")
    if name == "__main__":
        return sys.argv[0] if sys.argv else "__main__"
    return name


def DEFINE_flag(flag: Flag, flag_values: FlagValues = FLAGS, module_name: str | None = None) -> FlagHolder:  # noqa: N802
    flag.module_name = module_name or _caller_module(2)
    flag_values._register(flag)
    return FlagHolder(flag_values, flag)


def DEFINE(parser: ArgumentParser, name: str, default: Any, help: str | None,  # noqa: N802, A002
           flag_values: FlagValues = FLAGS, module_name: str | None = None, **args: Any) -> FlagHolder:
    return DEFINE_flag(Flag(parser, name, default, help, **args), flag_values, module_name or _caller_module(2))


def _renamed(kwargs: dict[str, Any]) -> dict[str, Any]:
    """TF's wrapper accepts absl's old keyword names, with a warning on the root logger."""
    if any(old in kwargs for old in _OLD_KEYWORDS):
        import logging

        logging.warning("Use of the keyword argument names (flag_name, default_value, docstring) is deprecated, "
                        "please use (name, default, help) instead.")
        kwargs = {_OLD_KEYWORDS.get(k, k): v for k, v in kwargs.items()}
    return kwargs


def _define(flag: Flag, options: dict[str, Any]) -> FlagHolder:
    return DEFINE_flag(flag, options.get("flag_values", FLAGS), options.get("module_name") or _caller_module(3))


def _split(args: tuple, kwargs: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    kwargs = _renamed(kwargs)
    for key, value in zip(names, args):
        if key in kwargs:
            raise TypeError(f"got multiple values for argument '{key}'")
        kwargs[key] = value
    kwargs.setdefault("help", None)
    return kwargs


def DEFINE_string(*args: Any, **kwargs: Any) -> FlagHolder:  # noqa: N802
    """DEFINE_string(name, default, help, flag_values=FLAGS)."""
    k = _split(args, kwargs, ("name", "default", "help", "flag_values"))
    return _define(Flag(ArgumentParser(), k["name"], k["default"], k["help"], k.get("short_name")), k)


def DEFINE_boolean(*args: Any, **kwargs: Any) -> FlagHolder:  # noqa: N802
    """DEFINE_boolean(name, default, help, flag_values=FLAGS): `--name` / `--noname` on the command line."""
    k = _split(args, kwargs, ("name", "default", "help", "flag_values"))
    return _define(Flag(BooleanParser(), k["name"], k["default"], k["help"], k.get("short_name"), boolean=True), k)


DEFINE_bool = DEFINE_boolean


def DEFINE_integer(*args: Any, **kwargs: Any) -> FlagHolder:  # noqa: N802
    """DEFINE_integer(name, default, help, lower_bound=None, upper_bound=None, flag_values=FLAGS)."""
    k = _split(args, kwargs, ("name", "default", "help", "lower_bound", "upper_bound", "flag_values"))
    parser = IntegerParser(k.get("lower_bound"), k.get("upper_bound"))
    return _define(Flag(parser, k["name"], k["default"], k["help"], k.get("short_name")), k)


def DEFINE_float(*args: Any, **kwargs: Any) -> FlagHolder:  # noqa: N802
    """DEFINE_float(name, default, help, lower_bound=None, upper_bound=None, flag_values=FLAGS)."""
    k = _split(args, kwargs, ("name", "default", "help", "lower_bound", "upper_bound", "flag_values"))
    parser = FloatParser(k.get("lower_bound"), k.get("upper_bound"))
    return _define(Flag(parser, k["name"], k["default"], k["help"], k.get("short_name")), k)


def DEFINE_enum(name: str, default: Any, enum_values: Sequence[str], help: str | None,  # noqa: N802, A002
                flag_values: FlagValues = FLAGS, module_name: str | None = None, case_sensitive: bool = True,
                short_name: str | None = None) -> FlagHolder:
    """A string flag that takes one of `enum_values`; its help starts `<a|b|c>: `."""
    parser = EnumParser(enum_values, case_sensitive)
    flag = Flag(parser, name, default, f"<{'|'.join(enum_values)}>: {help or ''}", short_name)
    return DEFINE_flag(flag, flag_values, module_name or _caller_module(2))


def DEFINE_list(name: str, default: Any, help: str | None, flag_values: FlagValues = FLAGS,  # noqa: N802, A002
                module_name: str | None = None, short_name: str | None = None) -> FlagHolder:
    """A comma-separated list of strings."""
    flag = Flag(ListParser(), name, default, help, short_name, serialize=",".join)
    return DEFINE_flag(flag, flag_values, module_name or _caller_module(2))


def DEFINE_spaceseplist(name: str, default: Any, help: str | None,  # noqa: N802, A002
                        flag_values: FlagValues = FLAGS, module_name: str | None = None,
                        short_name: str | None = None) -> FlagHolder:
    """A whitespace-separated list of strings."""
    flag = Flag(WhitespaceSeparatedListParser(), name, default, help, short_name, serialize=" ".join)
    return DEFINE_flag(flag, flag_values, module_name or _caller_module(2))


def _define_multi(parser: ArgumentParser, name: str, default: Any, help_string: str | None,
                  flag_values: FlagValues, module_name: str | None, short_name: str | None) -> FlagHolder:
    flag = MultiFlag(parser, name, default, help_string, short_name=short_name)
    return DEFINE_flag(flag, flag_values, module_name or _caller_module(3))


def DEFINE_multi_string(name: str, default: Any, help: str | None,  # noqa: N802, A002
                        flag_values: FlagValues = FLAGS, module_name: str | None = None,
                        short_name: str | None = None) -> FlagHolder:
    """A string flag that may be repeated: its value is the list of the values given."""
    return _define_multi(ArgumentParser(), name, default, help, flag_values, module_name, short_name)


def DEFINE_multi_integer(name: str, default: Any, help: str | None, lower_bound: Any = None,  # noqa: N802, A002
                         upper_bound: Any = None, flag_values: FlagValues = FLAGS, module_name: str | None = None,
                         short_name: str | None = None) -> FlagHolder:
    return _define_multi(IntegerParser(lower_bound, upper_bound), name, default, help, flag_values, module_name,
                         short_name)


def DEFINE_multi_float(name: str, default: Any, help: str | None, lower_bound: Any = None,  # noqa: N802, A002
                       upper_bound: Any = None, flag_values: FlagValues = FLAGS, module_name: str | None = None,
                       short_name: str | None = None) -> FlagHolder:
    return _define_multi(FloatParser(lower_bound, upper_bound), name, default, help, flag_values, module_name,
                         short_name)


# ---------------------------------------------------------------- validators
def _flag_of(name_or_holder: Any, flag_values: FlagValues) -> tuple[Flag, FlagValues]:
    if isinstance(name_or_holder, FlagHolder):
        return name_or_holder._flag_values[name_or_holder.name], name_or_holder._flag_values
    return flag_values[name_or_holder], flag_values


def register_validator(flag_name: Any, checker: Callable[[Any], Any], message: str = "Flag validation failed",
                       flag_values: FlagValues = FLAGS) -> None:
    """Checks `checker(value)` after every parse and assignment; a falsy verdict is IllegalFlagValueError."""
    flag, _ = _flag_of(flag_name, flag_values)
    flag.validators.append((checker, message))


def validator(flag_name: Any, message: str = "Flag validation failed",
              flag_values: FlagValues = FLAGS) -> Callable[[Callable], Callable]:
    def decorate(checker: Callable) -> Callable:
        register_validator(flag_name, checker, message, flag_values)
        return checker

    return decorate


def mark_flag_as_required(flag_name: Any, flag_values: FlagValues = FLAGS) -> None:
    """The flag must be given a value other than None (a non-None default passes, with absl's warning)."""
    flag, _ = _flag_of(flag_name, flag_values)
    if flag.default is not None:
        warnings.warn(f"Flag --{flag.name} has a non-None default value; therefore, mark_flag_as_required will pass "
                      "even if flag is not specified in the command line!", stacklevel=2)
    flag.validators.append((lambda value: value is not None,
                            f"Flag --{flag.name} must have a value other than None."))


def mark_flags_as_required(flag_names: Sequence[Any], flag_values: FlagValues = FLAGS) -> None:
    for name in flag_names:
        mark_flag_as_required(name, flag_values)
