"""Pure layout builders: ``make_*(...) -> Component``. No data access, no scoring imports."""
