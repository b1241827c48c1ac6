"""t2tlite/gpu_env.py: no "failed call to cuInit" line on a machine without an
NVIDIA GPU, real errors still printed, and a user's own choice of devices
left alone (issue 33 §6)."""
import json
import os
import subprocess
import sys

import pytest

from t2tlite import gpu_env

NO_GPU = not gpu_env.nvidia_present()
# Starts TensorFlow's devices the way every command does (through t2tlite),
# then writes an error line of its own to fd 2 as C++ code would.
PROBE = ("import json, os, t2tlite, tensorflow as tf; tf.constant(1); "
         "print(json.dumps({k: os.environ.get(k) for k in "
         "('TF_ENABLED_DEVICE_TYPES', 'CUDA_VISIBLE_DEVICES')})); "
         "print([d.device_type for d in tf.config.list_logical_devices()]); "
         "os.write(2, b'E0000 a real error\\n'); "
         "tf.strings.to_number('abc')")


def _probe(**env):
  base = {k: v for k, v in os.environ.items()
          if k not in ("TF_ENABLED_DEVICE_TYPES", "CUDA_VISIBLE_DEVICES",
                       "T2TLITE_VERBOSE")}
  return subprocess.run([sys.executable, "-c", PROBE], capture_output=True,
                        text=True, env=dict(base, **env), timeout=300)


def _machine(tmp_path, *paths):
  for p in paths:
    target = tmp_path / p.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("")
  return str(tmp_path)


@pytest.mark.skipif(not NO_GPU, reason="this machine has an NVIDIA device")
def test_no_cuinit_line_and_real_errors_still_print():
  proc = _probe()
  assert "cuInit" not in proc.stderr, proc.stderr
  assert "E0000 a real error" in proc.stderr
  assert "InvalidArgumentError" in proc.stderr  # TensorFlow's own error
  env, devices = proc.stdout.splitlines()
  assert json.loads(env) == {"TF_ENABLED_DEVICE_TYPES": "CPU,XLA_CPU",
                             "CUDA_VISIBLE_DEVICES": None}
  assert devices == "['CPU']"


@pytest.mark.skipif(not NO_GPU, reason="this machine has an NVIDIA device")
def test_cli_help_has_no_cuinit_line():
  proc = subprocess.run([sys.executable, "-m", "t2tlite.bin.t2t_trainer",
                         "--help"], capture_output=True, text=True,
                        timeout=300)
  assert proc.returncode == 0
  assert "cuInit" not in proc.stderr


@pytest.mark.parametrize("name,value", [("CUDA_VISIBLE_DEVICES", ""),
                                        ("CUDA_VISIBLE_DEVICES", "0"),
                                        ("TF_ENABLED_DEVICE_TYPES", "CPU")])
def test_a_users_own_setting_is_left_as_it_is(name, value):
  proc = _probe(**{name: value})
  assert "E0000 a real error" in proc.stderr
  other = ({"TF_ENABLED_DEVICE_TYPES", "CUDA_VISIBLE_DEVICES"} - {name}).pop()
  # The user's variable as they set it, nothing added beside it.
  assert json.loads(proc.stdout.splitlines()[0]) == {name: value, other: None}


def test_the_decision(tmp_path):
  bare = _machine(tmp_path / "bare")
  env = {}
  assert gpu_env.hide_cuda_without_gpu(env, root=bare, platform="linux",
                                       paths=[])
  assert env == {"TF_ENABLED_DEVICE_TYPES": "CPU,XLA_CPU"}
  for gpu in ("/dev/nvidia0", "/dev/nvidiactl", "/proc/driver/nvidia/version",
              "/dev/dxg"):
    root = _machine(tmp_path / gpu.replace("/", "_"), gpu)
    assert gpu_env.nvidia_present(root)
    env = {}
    assert not gpu_env.hide_cuda_without_gpu(env, root=root,
                                             platform="linux", paths=[])
    assert env == {}
  for user in ({"CUDA_VISIBLE_DEVICES": ""}, {"CUDA_VISIBLE_DEVICES": "1"},
               {"TF_ENABLED_DEVICE_TYPES": "CPU,GPU"}):
    env = dict(user)
    assert not gpu_env.hide_cuda_without_gpu(env, root=bare,
                                             platform="linux", paths=[])
    assert env == user
  env = {}
  assert not gpu_env.hide_cuda_without_gpu(env, root=bare, platform="darwin",
                                           paths=[])
  assert env == {}
  site = tmp_path / "site"
  (site / "tensorflow-plugins").mkdir(parents=True)
  (site / "tensorflow-plugins" / "libvendor_gpu.so").write_text("")
  env = {}
  assert not gpu_env.hide_cuda_without_gpu(env, root=bare, platform="linux",
                                           paths=[str(site)])
  assert env == {}


def test_gpu_env_imports_only_the_standard_library():
  code = ("import sys; sys.path.insert(0, sys.argv[1]); import gpu_env; "
          "print(sorted(m for m in sys.modules if m.startswith(('t2tlite', "
          "'tensorflow', 'numpy'))))")
  out = subprocess.run([sys.executable, "-c", code,
                        os.path.dirname(gpu_env.__file__)], check=True,
                       capture_output=True, text=True).stdout
  assert out.strip() == "[]"
