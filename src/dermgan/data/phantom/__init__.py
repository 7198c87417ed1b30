"""The built-in phantom: a synthetic stand-in for a real clinical-photo dataset, made from a seed.

Photos of skin of every Fitzpatrick type (its CIELAB tone inside the type's ITA band) with lighting,
texture, hair, background, blur and noise, showing 1-3 lesions of one of eight conditions with
tone-aware colours and their boxes. It lets every stage be run and tested without real photos; it is
labelled synthetic everywhere it is written.
"""

from dermgan.data.phantom.dataset import PhantomSummary, make_phantom
from dermgan.data.phantom.labels import DEFAULT_CONDITION_WEIGHTS, DEFAULT_SKIN_TYPE_WEIGHTS, plan_cases
from dermgan.data.phantom.lesions import CONDITIONS

__all__ = [
    "CONDITIONS",
    "DEFAULT_CONDITION_WEIGHTS",
    "DEFAULT_SKIN_TYPE_WEIGHTS",
    "PhantomSummary",
    "make_phantom",
    "plan_cases",
]
