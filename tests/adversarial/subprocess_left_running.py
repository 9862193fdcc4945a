"""Resources: starts a child process that outlives the call."""
import subprocess
import sys

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    return tensor
