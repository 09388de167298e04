"""The one part of the build pyproject.toml cannot say: two optional C extensions.

``evkit.sources.filesystems._tskwalk``, the C walker of ``evkit ls``, is linked against the
system's The Sleuth Kit (Debian: ``libtsk-dev``). ``evkit.case._magicbatch``, libmagic over a list
of buffers without the GIL for extraction's file typing, is linked against libmagic (Debian:
``libmagic-dev``). Both are optional: where a library or its headers are missing the build only
warns, and evkit uses pytsk3 or python-magic, which give the same results, only slower.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "evkit.sources.filesystems._tskwalk",
            ["src/evkit/sources/filesystems/_tskwalk.c"],
            libraries=["tsk"],
            extra_compile_args=["-Wall", "-Wextra"],
            optional=True,
        ),
        Extension(
            "evkit.case._magicbatch",
            ["src/evkit/case/_magicbatch.c"],
            libraries=["magic"],
            extra_compile_args=["-Wall", "-Wextra"],
            optional=True,
        ),
    ]
)
