"""A VICIdial Non-Agent API simulator: real function names, formats, errors and dialer dynamics.

Written from ``shared/vicidial/API.md`` on its own: it shares no format code with
``wallboard.vicidial`` so a wrong column in one is caught by the other.
"""
