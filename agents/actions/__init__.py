"""The action agent: a request to look something up exactly or to act becomes one typed tool
call, or a question back when something it needs was not said."""
