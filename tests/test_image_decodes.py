"""The decode guard: a burst of huge-pixel uploads costs time, never the worker's memory."""

import io
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from bench.image_memory import huge_png
from bench.image_memory import run as peak_memory
from liveupdates import images


def small_png():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def slots(monkeypatch):
    def use(count):
        monkeypatch.setattr(images, "_decode_slots", threading.BoundedSemaphore(count))

    return use


def test_no_more_photos_are_decoded_at_once_than_the_process_allows(slots):
    slots(2)
    running, most = [0], [0]
    lock = threading.Lock()

    @images.decode_slot
    def decode():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    threads = [threading.Thread(target=decode) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2


def test_a_photo_that_waits_too_long_for_its_turn_is_refused_with_a_message(slots, settings):
    slots(1)
    settings.NEWSROOM_IMAGE_DECODE_WAIT = 0.05
    images._decode_slots.acquire()  # another upload is being decoded
    try:
        with pytest.raises(ValidationError) as refused:
            images.validate_image(SimpleUploadedFile("a.png", small_png(), content_type="image/png"))
    finally:
        images._decode_slots.release()
    assert refused.value.code == "busy" and "again in a minute" in refused.value.messages[0]


@pytest.mark.django_db
def test_an_editor_uploading_while_the_slots_are_taken_gets_a_message_not_an_error(slots, settings, client, journalist):
    slots(1)
    settings.NEWSROOM_IMAGE_DECODE_WAIT = 0.05
    client.force_login(journalist)
    images._decode_slots.acquire()
    try:
        response = client.post(
            reverse("richtext_image_upload"), {"upload": SimpleUploadedFile("a.png", small_png(), content_type="image/png")}
        )
    finally:
        images._decode_slots.release()
    assert response.status_code == 400 and "again in a minute" in response.json()["error"]["message"]
    response = client.post(
        reverse("richtext_image_upload"), {"upload": SimpleUploadedFile("a.png", small_png(), content_type="image/png")}
    )
    assert response.status_code == 200 and response.json()["uploaded"] == 1


def test_one_slot_is_enough_for_a_whole_upload(slots, tmp_path):
    """store() verifies, re-encodes and makes renditions: nested decodes in one thread never wait for themselves."""
    from django.core.files.storage import FileSystemStorage

    slots(1)
    name = images.store(FileSystemStorage(location=tmp_path), "t", SimpleUploadedFile("a.png", small_png()))
    assert (tmp_path / name).exists()


def test_three_huge_pixel_uploads_at_once_peak_at_about_one_decode(tmp_path):
    """Measured in fresh processes: the guard's peak memory against three decodes at once (issue: 2 GB for four)."""
    path = tmp_path / "huge.png"
    path.write_bytes(huge_png(3000))  # 9 megapixels in a few KB
    start_guarded, peak_guarded, _ = peak_memory(str(path), uploads=3, slots=1)
    start_free, peak_free, _ = peak_memory(str(path), uploads=3, slots=3)
    one_decode = peak_guarded - start_guarded
    assert one_decode > 0
    assert peak_free - start_free > 1.5 * one_decode, (start_guarded, peak_guarded, start_free, peak_free)
