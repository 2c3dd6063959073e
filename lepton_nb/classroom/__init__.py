"""Teaching a class with the exercises: a student release without answers and a teacher folder with the keys
(`release`), an autograder that runs submitted notebooks and writes a gradebook (`grade`,
`write_gradebook`), and a class gallery of everyone's runs (`gallery`). The cell conventions are nbgrader's
(`cells`); nbgrader itself is not needed.
"""

from __future__ import annotations

from .gallery import gallery
from .gradebook import write_gradebook
from .grader import Submission, grade
from .release import Release, release

__all__ = ["Release", "Submission", "gallery", "grade", "release", "write_gradebook"]
