"""Images in, answers out: the image model, predict, images, drawing, answers compared on images."""
