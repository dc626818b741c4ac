__version__: str

def is_on_increment(value: float, increment: float) -> bool:
    """Whether `value` is a whole multiple of `increment`; ValueError on NaN/inf or increment <= 0."""
