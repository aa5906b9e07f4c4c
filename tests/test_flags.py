"""tf.flags / tf.app: absl's parsing, errors and help as TF 2.21 gives them (tests/fixtures/long_tail/flags.json
and app.json, recorded by make_long_tail_fixtures.py from the same scenarios)."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

import caudal as tf
from caudal import flags

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "long_tail")
_spec = importlib.util.spec_from_file_location("long_tail_scenarios",
                                               os.path.join(HERE, "fixtures", "long_tail_scenarios.py"))
scenarios = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenarios)


def _fixture(name: str) -> object:
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def _without_modules(results: list) -> list:
    """The duplicate-flag message names the defining modules, which differ between the two runs."""
    text = json.dumps(results)
    return json.loads(re.sub(r"First from .*?, second from .*?\. Description", "First from M, second from M. "
                                                                             "Description", text))


def test_parsing_errors_and_holders_match_tensorflow():
    expected = _without_modules(_fixture("flags.json"))
    actual = _without_modules(scenarios._json(scenarios.flag_cases(flags)))
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert got == want, want[0]


@pytest.mark.parametrize("run", _fixture("app.json"), ids=lambda run: " ".join(run["argv"]) or "no arguments")
def test_app_run_matches_tensorflow(run, tmp_path):
    program = tmp_path / "demo_app.py"
    program.write_text(scenarios.APP_PROGRAM.format(module="caudal"))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    done = subprocess.run([sys.executable, str(program)] + run["argv"], capture_output=True, text=True, env=env)
    assert done.returncode == run["returncode"]
    assert done.stdout.replace(str(program), "PROGRAM") == run["stdout"]
    assert done.stderr.strip() == run["stderr"].strip()


def test_app_flags_is_tf_flags():
    assert tf.app.flags is tf.flags and tf.flags.FLAGS is flags.FLAGS


def test_the_global_flags_parse_sys_argv_when_first_read(monkeypatch):
    fv = flags._TFFlagValues()
    flags.DEFINE_integer("steps", 10, "steps", flag_values=fv)
    monkeypatch.setattr(sys, "argv", ["prog", "--steps=20"])
    assert fv.steps == 20 and fv.is_parsed()
    mine = flags.FlagValues()
    flags.DEFINE_integer("steps", 10, "steps", flag_values=mine)
    with pytest.raises(flags.UnparsedFlagAccessError, match="Trying to access flag --steps before flags were "
                                                           "parsed."):
        getattr(mine, "steps")  # noqa: B009 - the read is the point
    with pytest.raises(AttributeError, match="nope"):
        getattr(fv, "nope")  # noqa: B009


def test_flag_values_api():
    fv = flags.FlagValues()
    holder = flags.DEFINE_float("rate", 0.5, "rate", flag_values=fv)
    fv(["prog", "--rate=0.25"])
    assert "rate" in fv and list(fv) == ["rate"] and len(fv) == 1
    assert fv["rate"].value == 0.25 and holder.value == 0.25 and holder.present
    assert fv.get_flag_value("rate", None) == 0.25 and fv.get_flag_value("other", 7) == 7
    fv.set_default("rate", 0.75)
    assert fv.rate == 0.25 and fv["rate"].default == 0.75
    fv.unparse_flags()
    assert not fv.is_parsed() and fv["rate"].value == 0.75
    with pytest.raises(TypeError, match="argv should be a tuple/list of strings"):
        fv("prog --rate=1")
    with pytest.raises(AttributeError):
        fv.undefined = 1


def test_validators_and_required_flags():
    fv = flags.FlagValues()
    flags.DEFINE_integer("even", 2, "even", flag_values=fv)
    flags.DEFINE_string("out", None, "out", flag_values=fv)
    flags.DEFINE_string("mode", "a", "mode", flag_values=fv)

    @flags.validator("even", message="must be even", flag_values=fv)
    def _is_even(value: int) -> bool:
        return value % 2 == 0

    flags.mark_flags_as_required(["out"], flag_values=fv)
    with pytest.warns(UserWarning, match="Flag --mode has a non-None default value"):
        flags.mark_flag_as_required("mode", flag_values=fv)
    with pytest.raises(flags.IllegalFlagValueError, match="flag --even=3: must be even"):
        fv(["prog", "--even=3", "--out=x"])
    fv.unparse_flags()
    with pytest.raises(flags.IllegalFlagValueError, match="flag --out=None: Flag --out must have a value other "
                                                          "than None."):
        fv(["prog"])
    fv.unparse_flags()
    fv(["prog", "--out=x"])

    def raising(value: int) -> bool:
        raise flags.ValidationError("said no")

    flags.register_validator("even", raising, flag_values=fv)
    with pytest.raises(flags.IllegalFlagValueError, match="flag --even=4: said no"):
        fv.even = 4


def test_full_help_lists_every_module(monkeypatch):
    fv = flags.FlagValues()
    flags.DEFINE_integer("n", 3, "a count", flag_values=fv, module_name="pkg.mod")
    flags.DEFINE_bool("fast", True, "go fast", flag_values=fv, module_name="main.py")
    flags.DEFINE_multi_integer("ids", [1, 2], "ids", lower_bound=0, flag_values=fv, module_name="pkg.mod")
    monkeypatch.setattr(sys, "argv", ["main.py"])
    assert str(fv) == ("\nmain.py:\n  --[no]fast: go fast\n    (default: 'true')"
                       "\npkg.mod:\n  --ids: ids;\n    repeat this option to specify a list of values\n"
                       "    (default: '[1, 2]')\n    (a non-negative integer)\n"
                       "  --n: a count\n    (default: '3')\n    (an integer)")
    assert fv.main_module_help() == "\nmain.py:\n  --[no]fast: go fast\n    (default: 'true')"
    assert fv.module_help("elsewhere") == ""


def test_long_help_is_wrapped_at_80_columns():
    fv = flags.FlagValues()
    flags.DEFINE_string("s", "x", "word " * 30, flag_values=fv, module_name="m")
    lines = fv.module_help("m").splitlines()
    assert max(len(line) for line in lines) <= 80 and lines[3].startswith("    word") and len(lines) == 6


def test_bad_definitions():
    fv = flags.FlagValues()
    with pytest.raises(flags.IllegalFlagValueError, match="flag --n=x: invalid literal for int"):
        flags.DEFINE_integer("n", "x", "h", flag_values=fv)
    with pytest.raises(ValueError, match="enum_values cannot be empty"):
        flags.DEFINE_enum("e", None, [], "h", flag_values=fv)
    with pytest.raises(flags.IllegalFlagValueError, match="flag --s=3: flag value must be a string"):
        flags.DEFINE_string("s", 3, "h", flag_values=fv)
    with pytest.raises(TypeError, match="got multiple values for argument 'name'"):
        flags.DEFINE_string("s", "d", "h", name="s", flag_values=fv)
    with pytest.raises(ValueError, match="--nob=1 does not take an argument"):
        flags.DEFINE_boolean("b", False, "h", flag_values=fv)
        fv(["prog", "--nob=1"])
