"""The classifiers package's exception tree."""

from __future__ import annotations


class ClassifierError(Exception):
    """Base of every error raised by the classifiers package."""


class ModelNotFound(ClassifierError):
    """No built model where one was expected: run ``yuqing models build``."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no model at {path}: run `yuqing models build` first")
        self.path = path


class UntrustedModelPath(ClassifierError):
    """A model was asked for outside the project's own model directory."""


class TaxonomyError(ClassifierError):
    """The remit taxonomy file is invalid; says which topic and field."""


class TrainingDataError(ClassifierError):
    """A labelled CSV cannot train or evaluate a model; says which file, column or labels."""
