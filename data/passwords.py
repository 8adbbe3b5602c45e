"""The password policy (NIST SP 800-63B §5.1.1.2, OWASP ASVS 2.1) and generated initial passwords.

- at least 12 characters (up to 128), any characters, spaces and Chinese included;
- not in the bundled list of common passwords (``data/vendor/common-passwords.txt.gz``), nor a
  context word of this system, nor one character repeated;
- not containing the username;
- no composition rules (no "one upper, one digit, one symbol").

Pure functions; ``check`` returns Chinese messages (empty = acceptable).
"""
from __future__ import annotations

import functools
import gzip
import secrets
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_LIST = Path(__file__).resolve().parent / "vendor" / "common-passwords.txt.gz"
CONTEXT_WORDS = ("dangjian", "dangjian2026", "党建工作考核系统", "党建考核", "password2026", "admin2026")
POLICY_TEXT = (f"密码至少 {MIN_LENGTH} 位，可用任意字符（包括空格和汉字），建议用几个词组成的短句；"
               "不能是常见密码，不能包含用户名。")
# Unambiguous letters and digits for generated passwords (no 0/O, 1/l/I).
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@functools.lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_LIST, "rt", encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def check(password: str, username: str = "") -> list[str]:
    """Problems with ``password`` as Chinese messages; [] when it meets the policy."""
    if not isinstance(password, str):
        return ["请填写密码"]
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码至少 {MIN_LENGTH} 位（现为 {len(password)} 位）")
    if len(password) > MAX_LENGTH:
        problems.append(f"密码不能超过 {MAX_LENGTH} 位")
    low = password.strip().lower()
    if low in common_passwords() or low in CONTEXT_WORDS:
        problems.append("该密码是常见密码，很容易被猜中，请换一个")
    elif password and len(set(password)) == 1:
        problems.append("密码不能由同一个字符重复组成")
    name = (username or "").strip().lower()
    if name and name in low:
        problems.append("密码不能包含用户名")
    return problems


def generate(length: int = 16) -> str:
    """A random initial password that meets the policy (shown once, changed at first sign-in)."""
    while True:
        pw = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if not check(pw):
            return pw
