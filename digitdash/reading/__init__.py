"""Reading runs and trained networks, without TensorFlow: answers, inside, charts, compare, the class's handwriting."""
