"""The pages of the economy app under /wirtschaft/, one module per part; each module has its
``urlpatterns`` (included by economy/urls.py)."""
