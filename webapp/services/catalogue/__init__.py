"""Reading what is stored: the profile list and detail, the video catalogue, exports, text
search."""
