"""The README's offline verification script works on a real certificate, and refuses a tampered one."""
import json
import re
import subprocess
import sys
from pathlib import Path

from certify.services.certificates import keyring
from certify.signing import verification_code

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_script() -> str:
    text = README.read_text(encoding="utf-8")
    return re.search(r"<!-- verify-script -->\s*```python\n(.*?)```", text, re.S).group(1)


def test_the_readme_script_verifies_a_certificate_holding_only_the_public_key(ctx, tmp_path):
    certificate = {"number": "KR-RM-2026-000007", "company": {"name": "한빛 배터리 리사이클링"},
                   "quantity_kg": 10000, "recycled_content_pct": 93.7577}
    key_id, signature = keyring().sign(certificate)
    document = {"certificate": certificate, "status": "valid", "key_id": key_id, "signature": signature,
                "verification_code": verification_code(signature)}
    script = tmp_path / "verify.py"
    script.write_text(readme_script())
    assert len(readme_script().strip().splitlines()) <= 20
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": keyring().published_keys()}))
    good = tmp_path / "certificate.json"
    good.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script), str(good), str(keys)], capture_output=True, text=True)
    assert result.returncode == 0 and "KR-RM-2026-000007" in result.stdout
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps({**document, "certificate": {**certificate, "quantity_kg": 20000}}))
    assert subprocess.run([sys.executable, str(script), str(bad), str(keys)], capture_output=True).returncode != 0
