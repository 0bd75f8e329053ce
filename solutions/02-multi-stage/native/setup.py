"""The C extension needs a compiler and Python's headers at build time, and neither at run time."""

from setuptools import Extension, setup

setup(packages=["fastknn"], ext_modules=[Extension("fastknn._fastknn", ["fastknn/_fastknn.c"], extra_compile_args=["-O2"])])
