# The database stand-in: the example app's image (Debian 12 with python3),
# without the library.
FROM hostup-example-app
ENV LD_PRELOAD= HOSTUP_POLICY=
COPY db.py /db.py
CMD ["python3", "/db.py"]
