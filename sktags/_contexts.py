"""The 15 context tags of the released dataset, in its column order."""

CONTEXTS = (
    "car",
    "chill",
    "club",
    "dance",
    "gym",
    "happy",
    "night",
    "party",
    "relax",
    "running",
    "sad",
    "sleep",
    "summer",
    "work",
    "workout",
)
