"""``python -m resotrack.demo``: run the story (``--help`` lists the options)."""

from resotrack.demo.run import app

if __name__ == "__main__":
    app(prog_name="python -m resotrack.demo")
