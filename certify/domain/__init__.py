"""The rules a regulator could ask about, in plain Python: no Flask, no database, no broker."""
