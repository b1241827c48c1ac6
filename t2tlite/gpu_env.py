"""Keeps TensorFlow from probing CUDA on a machine with no NVIDIA GPU.

TensorFlow's pip wheel registers a GPU device factory whatever the machine;
when its devices start, the factory calls cuInit, which fails where there is
no NVIDIA driver and logs, on every command:

  E0000 ... cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA
  error: Failed call to cuInit: UNKNOWN ERROR (303)

CUDA_VISIBLE_DEVICES="" does not stop it (cuInit runs first and fails the
same way), and a higher TF_CPP_MIN_LOG_LEVEL would hide every real error
too. TensorFlow's own switch is TF_ENABLED_DEVICE_TYPES, read when its
library loads: the device factories not listed are not registered, so
nothing calls cuInit, and every other message still prints.

hide_cuda_without_gpu() sets it to the host's types (CPU, XLA_CPU: all but
GPU and XLA_GPU, the factories that probe CUDA) before TensorFlow is
imported, and only where no GPU can be: on Linux, with no NVIDIA device node
or driver (/dev/nvidia*, /proc/driver/nvidia; /dev/dxg, WSL's GPU), no
pluggable-device plugin installed (tensorflow-plugins/), and neither
CUDA_VISIBLE_DEVICES nor TF_ENABLED_DEVICE_TYPES set by the user (their
choice stands, untouched). This module imports nothing but the standard
library: t2tlite/__init__.py calls it before its TensorFlow import, which
every CLI (bin/), script and user of the Python API goes through.
"""
import glob
import os
import sys

ENV = "TF_ENABLED_DEVICE_TYPES"
HOST_DEVICE_TYPES = "CPU,XLA_CPU"
# Set by the user, each of these says how to treat GPUs: left as they are.
USER_CHOICES = ("CUDA_VISIBLE_DEVICES", ENV)
_NVIDIA_PATHS = ("/proc/driver/nvidia", "/dev/nvidiactl", "/dev/dxg")


def nvidia_present(root="/"):
  """True if the machine may have an NVIDIA GPU: a device node or the
  driver's /proc entry (under `root`, for tests)."""
  join = lambda p: os.path.join(root, p.lstrip("/"))
  return (any(os.path.exists(join(p)) for p in _NVIDIA_PATHS) or
          bool(glob.glob(join("/dev/nvidia[0-9]*"))))


def pluggable_plugins(paths=None):
  """Pluggable-device libraries TensorFlow would load (another vendor's GPU
  registers its device types from site-packages/tensorflow-plugins/)."""
  found = []
  for base in sys.path if paths is None else paths:
    found += glob.glob(os.path.join(base or ".", "tensorflow-plugins", "*.so"))
  return found


def hide_cuda_without_gpu(environ=None, root="/", platform=None,
                          paths=None):
  """Sets TF_ENABLED_DEVICE_TYPES=CPU,XLA_CPU in `environ` (os.environ) when
  no GPU can be present and the user has not chosen; returns whether it
  did. Call it before TensorFlow is imported: later it changes nothing in
  this process (then it does nothing)."""
  environ = os.environ if environ is None else environ
  platform = sys.platform if platform is None else platform
  if "tensorflow" in sys.modules and environ is os.environ:
    return False
  if not platform.startswith("linux"):
    return False  # no CUDA probe to hide; macOS's Metal GPU is a plugin
  if any(name in environ for name in USER_CHOICES):
    return False
  if nvidia_present(root) or pluggable_plugins(paths):
    return False
  environ[ENV] = HOST_DEVICE_TYPES
  return True
