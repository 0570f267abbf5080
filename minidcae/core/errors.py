"""Errors a student can act on. The command line prints them as one line, never a traceback.

Used by every module; the README's command-line section shows them.
"""


class MinidcaeError(Exception):
    """Base class: the message says what is wrong and what to do."""


class AudioFileError(MinidcaeError):
    """An audio file is missing, unreadable, empty, non-finite or too short.

    The message starts with the file's path: `data/x.wav: empty file (0 samples)`.
    """

    def __init__(self, path, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")
