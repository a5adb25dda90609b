"""STAND-IN for the terraform and kubectl binaries (no AWS, no cluster, no providers on this machine).

Installed first on PATH by the `standins` fixture as `terraform` and `kubectl`. Each call appends
{"tool", "argv", "cwd", "stdin", "tf_vars"} to $STANDIN_DIR/calls.jsonl (stdin read only for
`-f -`: the objects an apply was given; tf_vars: the TF_VAR_* variables it ran with), then
answers from $STANDIN_DIR/<tool>-rules.json:
the first rule whose "match" tokens all appear in argv (and, if given, whose "cwd" ends the working
directory) prints its stdout/stderr and exits with its code. A rule with "times" is used up after that
many answers, so a test can script "not yet, not yet, done". No rule matched: exit 97, loudly.
"""

import json
import os
import sys
from pathlib import Path


def main() -> int:
    tool, argv = sys.argv[1], sys.argv[2:]
    home = Path(os.environ["STANDIN_DIR"])
    stdin = sys.stdin.read() if "-" in argv else None
    with (home / "calls.jsonl").open("a") as log:
        tf_vars = {key: value for key, value in os.environ.items() if key.startswith("TF_VAR_")}
        record = {"tool": tool, "argv": argv, "cwd": os.getcwd(), "stdin": stdin, "tf_vars": tf_vars}
        log.write(json.dumps(record) + "\n")
    rules_file = home / f"{tool}-rules.json"
    rules = json.loads(rules_file.read_text())
    used_file = home / f"{tool}-used.json"
    used = json.loads(used_file.read_text()) if used_file.exists() else {}
    for index, rule in enumerate(rules):
        if not all(token in argv for token in rule["match"]):
            continue
        if not os.getcwd().endswith(rule.get("cwd", "")):
            continue
        if "times" in rule and used.get(str(index), 0) >= rule["times"]:
            continue
        used[str(index)] = used.get(str(index), 0) + 1
        used_file.write_text(json.dumps(used))
        sys.stdout.write(rule.get("stdout", ""))
        sys.stderr.write(rule.get("stderr", ""))
        return int(rule.get("exit", 0))
    sys.stderr.write(f"stand-in {tool}: no rule for {argv} in {os.getcwd()}\n")
    return 97


if __name__ == "__main__":
    raise SystemExit(main())
