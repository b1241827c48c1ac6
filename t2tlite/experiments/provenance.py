"""Where a run was made: the code's commit and the CPU's model, recorded
with every experiment result and main-job report."""
import os
import platform
import subprocess


def code_commit():
  """(commit, uncommitted changes?) of this code's git checkout, or
  (None, None) outside one."""
  here = os.path.dirname(os.path.abspath(__file__))
  git = lambda *a: subprocess.run(["git", *a], cwd=here, capture_output=True,
                                  text=True, timeout=30)
  try:
    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
      return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return head.stdout.strip(), bool(status.stdout.strip())
  except (OSError, subprocess.SubprocessError):
    return None, None


def cpu_model():
  """The CPU's model name (/proc/cpuinfo), else what platform says."""
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or platform.machine() or None
