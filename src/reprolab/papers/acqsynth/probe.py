"""Asks the student for what each acquisition function reads (the note, step 4): top-2
margins of its decoding, embeddings of questions and of its sampled answers, the gradient norm
of one SFT step. Raw values are returned beside the rewards (the note's pitfall)."""

from __future__ import annotations

import logging

import numpy as np

from reprolab.papers.acqsynth import acquisition as acq
from reprolab.papers.acqsynth import student

log = logging.getLogger(__name__)


class Probe:
    """One student, loaded lazily: the inference backend, a trainable copy for gradients and
    the core embedder. `seeds` are the seed items (centroids, the diversity archive, the
    gradient scale)."""

    def __init__(self, student_path: str, embedder, seeds: list[dict], settings: dict, seed: int):
        self.path, self.embedder, self.seeds = student_path, embedder, seeds
        self.settings, self.seed = settings, seed
        self._backend = self._model = None
        self._centroids = self._diversity = self._scale = None

    # --- lazily built state ---
    @property
    def backend(self):
        if self._backend is None:
            from reprolab.inference import get_backend

            self._backend = get_backend(
                self.settings["backend"], self.path, **self.settings.get("backend_options", {})
            )
        return self._backend

    def _questions(self, items: list[dict]) -> np.ndarray:
        return self.embedder.encode([i["question"] for i in items])

    @property
    def centroids(self) -> np.ndarray:
        if self._centroids is None:
            self._centroids = acq.kmeans_centroids(
                self._questions(self.seeds), self.settings["proximity"]["k"], self.seed
            )
        return self._centroids

    @property
    def diversity(self) -> acq.Diversity:
        if self._diversity is None:
            archive = (
                self._questions(self.seeds) if self.settings["diversity"]["seed_archive"] else None
            )
            self._diversity = acq.Diversity(self.settings["diversity"]["admit"], archive)
        return self._diversity

    @property
    def gradient_scale(self) -> float:
        if self._scale is None:
            n = self.settings["gradient"]["scale_items"]
            self._scale = float(np.median(self.grad_norms(self.seeds[:n])))
            log.info("gradient reward scale (median seed norm): %.4g", self._scale)
        return self._scale

    # --- the student's signals ---
    def grad_norms(self, items: list[dict]) -> list[float]:
        """Global L2 norm of the gradient of one SFT step on (question, answer), the prompt
        masked out of the loss."""
        from reprolab.inference import render_chat
        from reprolab.models import load_model

        if self._model is None:
            import torch

            self._model, self._tok = load_model(self.path)
            if torch.cuda.is_available():  # full scale: the student's copy on the GPU
                self._model = self._model.cuda()
            self._model.train()
        system = self.settings["system"]
        norms = []
        for item in items:
            prompt = render_chat(self._tok, student.conversation(item, system))
            full = prompt + student.completion(item) + (self._tok.eos_token or "")
            p_ids = self._tok(prompt, add_special_tokens=False)["input_ids"]
            ids = self._tok(full, add_special_tokens=False, return_tensors="pt")["input_ids"]
            ids = ids.to(self._model.device)
            labels = ids.clone()
            labels[:, : len(p_ids)] = -100
            self._model.zero_grad(set_to_none=True)
            self._model(input_ids=ids, labels=labels).loss.backward()
            norms.append(acq.global_norm(self._model.parameters()))
        self._model.zero_grad(set_to_none=True)
        return norms

    def raw(self, name: str, items: list[dict]) -> list[float]:
        """Each item's raw acquisition value (before clipping or normalising)."""
        from reprolab.inference import SamplingParams

        s, system = self.settings, self.settings["system"]
        if name == "confidence":
            c = s["confidence"]
            params = SamplingParams(c["max_new_tokens"], c["temperature"], 1.0, self.seed)
            replies = self.backend.sample(
                [student.conversation(i, system) for i in items], params, n=1, top_logprobs=2
            )
            out = []
            for (reply,) in replies:
                margins = reply.top_margins()
                mean = float(np.mean(margins)) if margins else 0.0
                out.append(1.0 / mean if mean > 0 else float("inf"))
            return out
        if name == "proximity":
            q = self._questions(items)
            return [acq.proximity(row, self.centroids) for row in q]
        if name == "gradient":
            return self.grad_norms(items)
        if name == "diversity":
            q = self._questions(items)
            if s["diversity"]["kind"] == "centroid_distance":
                return [acq.centroid_distance(row, self.centroids) for row in q]
            return [self.diversity.offer(row) for row in q]
        if name == "variance":
            v = s["variance"]
            params = SamplingParams(v["max_new_tokens"], v["temperature"], 1.0, self.seed)
            replies = self.backend.sample(
                [student.conversation(i, system) for i in items], params, n=v["k"]
            )
            out = []
            for completions in replies:
                answers = [student.split_reply(c.text)[1] or c.text for c in completions]
                emb = self.embedder.encode(answers)
                out.append(acq.answer_variance(emb, v["min_cluster_size"], v["min_samples"]))
            return out
        raise ValueError(f"acquisition '{name}': expected one of {acq.NAMES}")

    def reward(self, name: str, raw: list[float]) -> list[float]:
        """The reward of raw values: clipped to [0, 2]; the gradient norm normalised first."""
        if name == "gradient":
            return [acq.gradient_reward(r, self.gradient_scale) for r in raw]
        if name == "confidence":
            return [acq.clip(r) if np.isfinite(r) else acq.CLIP[1] for r in raw]
        return [acq.clip(r) for r in raw]
