"""Images: the files pt2trt reads as images or videos, and the preprocessing that turns them into tensors."""
