import os
import stat

from sktags.utils import atomic_path


def test_replaced_file_gets_umask_permissions_not_mkstemp_0600(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    target = tmp_path / "out.bin"
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as f:
            f.write(b"x")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o666 & ~umask
    assert os.listdir(tmp_path) == ["out.bin"]
