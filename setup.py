"""t2tlite: one model to learn them all, on TensorFlow 2."""
import pathlib

from setuptools import setup

HERE = pathlib.Path(__file__).parent
# tensorflow-text's wheels are built against one TensorFlow minor version
# and refuse any other, so both pins name the same minor.
TF_MINOR = ">=2.21,<2.22"

# problems/, models/, hparams/ and bin/ live at the top of the repository but
# install under the t2tlite namespace: nothing generic lands in site-packages.
PACKAGE_DIR = {
    "t2tlite": "t2tlite",
    "t2tlite.problems": "problems",
    "t2tlite.models": "models",
    "t2tlite.hparams": "hparams",
    "t2tlite.bin": "bin",
}

setup(
    name="t2tlite",
    version="0.1.0",
    description="Tensor2Tensor-style multi-task learning with MultiModel",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    license_files=["LICENSE"],
    project_urls={
        "Paper (One Model To Learn Them All)":
            "https://arxiv.org/abs/1706.05137",
        "Tensor2Tensor": "https://github.com/tensorflow/tensor2tensor",
    },
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Science/Research",
        "Intended Audience :: Developers",
        "Operating System :: POSIX :: Linux",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
    python_requires=">=3.9",
    package_dir=PACKAGE_DIR,
    packages=["t2tlite", "t2tlite.data", "t2tlite.data.codecs",
              "t2tlite.train", "t2tlite.decode",
              "t2tlite.serve", "t2tlite.metrics", "t2tlite.layers",
              "t2tlite.modalities", "t2tlite.experiments",
              "t2tlite.problems", "t2tlite.models", "t2tlite.models.multimodel",
              "t2tlite.hparams", "t2tlite.bin"],
    install_requires=[
        "tensorflow" + TF_MINOR,
        "tensorflow-datasets>=4.9",
        "sentencepiece>=0.1.99",
        "absl-py>=1.0",
        "numpy>=1.24",
        # BLEU exactly as papers report it; writing our own would not be.
        "sacrebleu>=2.3",
        # WER/CER's edit distances: a maintained C++ Levenshtein, about 100x
        # faster than our Python one with the same counts (bench_wer.py).
        "rapidfuzz>=3.0",
        # tf.summary writes TensorBoard event files only with it installed.
        "tensorboard>=2.16",
        # FLAC/OGG and every WAV variant through libsndfile (bundled in the
        # wheel): a decoder we would write would be slower and less exact.
        "soundfile>=0.12",
        # Resampling to 16 kHz: scipy.signal.resample_poly, a maintained
        # polyphase anti-aliased (Kaiser FIR) resampler; the export's
        # in-graph twin reproduces its filter exactly.
        "scipy>=1.6",
        # The experiment reports' learning-curve plots.
        "matplotlib>=3.6",
    ],
    extras_require={
        # pytest-xdist runs the suite on every core (scripts/test.sh): most
        # tests are single-threaded Python, TF tracing or CLI subprocesses,
        # so one process leaves a core idle.
        "test": ["pytest>=7", "pytest-xdist>=3", "hypothesis>=6",
                 "scikit-learn>=1.2", "tensorflow-text" + TF_MINOR],
        # In-graph sentencepiece (the same C++ library the decoder uses) for
        # SavedModels that take raw text; only t2tlite-exporter needs it.
        "export": ["tensorflow-text" + TF_MINOR],
        # The performance benchmark's peer: Hugging Face T5 on PyTorch, the
        # usual choice for multi-task text-to-text training, timed in the
        # same run as ours (benchmarks/bench_peer.py). Optional: nothing else
        # imports them.
        "bench": ["torch==2.13.0", "transformers>=4.40"],
    },
    entry_points={
        # The built-in plugins, found by registry.load_plugins (the library
        # imports none of them). Another package adds its own problems,
        # models or hparams sets the same way, under its own names.
        "t2tlite.plugins": [
            "problems=t2tlite.problems",
            "models=t2tlite.models",
            "hparams=t2tlite.hparams",
        ],
        "console_scripts": [
            "t2tlite-avg-checkpoints=t2tlite.bin.t2t_avg_checkpoints:run",
            "t2tlite-datagen=t2tlite.bin.t2t_datagen:run",
            "t2tlite-trainer=t2tlite.bin.t2t_trainer:run",
            "t2tlite-decoder=t2tlite.bin.t2t_decoder:run",
            "t2tlite-experiment=t2tlite.bin.t2t_experiment:run",
            "t2tlite-exporter=t2tlite.bin.t2t_exporter:run",
            "t2tlite-serve=t2tlite.bin.t2t_serve:run",
        ],
    },
)
