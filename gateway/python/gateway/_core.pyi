__version__: str

def is_on_increment(value: float, increment: float) -> bool:
    """Whether `value` is a whole multiple of `increment`.

    Raises ValueError (with a reason code) on NaN/inf or an increment <= 0.
    """
