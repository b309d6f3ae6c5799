"""The command line as a whole: help, version, exit codes, no torch on the light path."""

import subprocess
import sys


from golf import __version__
from golf.cli import build_parser, main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: golf" in capsys.readouterr().out


def test_every_command_has_help_for_every_option():
    parser = build_parser()
    subparsers = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"][0]
    seen = 0
    stack = list(subparsers.choices.items())
    while stack:
        name, sub = stack.pop()
        seen += 1
        for action in sub._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                stack.extend((f"{name} {k}", v) for k, v in action.choices.items())
                continue
            if action.dest == "help":
                continue
            assert action.help, f"`golf {name}` option {action.option_strings or action.dest} has no help text"
    assert seen > 0


def test_help_does_not_import_torch():
    code = (
        "import sys\n"
        "from golf.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'golf --help imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_python_dash_m_golf_runs():
    result = subprocess.run([sys.executable, "-m", "golf", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "usage: golf" in result.stdout


def test_the_command_map_names_the_module_of_every_command():
    from golf.cli import COMMANDS

    parser = build_parser()
    subparsers = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"][0]
    assert set(subparsers.choices) == set(COMMANDS)
    for command, module in COMMANDS.items():
        alone = build_parser([command])
        only = [a for a in alone._actions if a.__class__.__name__ == "_SubParsersAction"][0]
        assert command in only.choices, f"{module} does not register `golf {command}`"


def test_one_command_loads_only_what_it_uses():
    code = (
        "import sys\n"
        "from golf.cli import main\n"
        "main(['rules', 'G106'])\n"
        "loaded = [m for m in ('golf.cli.data', 'golf.cli.train', 'golf.cli.evaluation', 'golf.judge.verify', "
        "'golf.judge.frontier', 'rich.console', 'numpy', 'torch') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
